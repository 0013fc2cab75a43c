using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace BlockTorrent;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>lseek whence: the first offset at or after the given one that holds data (not in a hole).</summary>
        internal const int SEEK_DATA = 3;

        /// <summary>lseek whence: the first offset at or after the given one that is in a hole (the file's end counts as one).</summary>
        internal const int SEEK_HOLE = 4;

        /// <summary>
        /// lseek(2) with a 64-bit off_t on every ABI. With <see cref="SEEK_DATA"/> and <see cref="SEEK_HOLE"/> it finds
        /// a sparse file's data and holes; it also moves the file offset, which positional reads and writes ignore.
        /// </summary>
        /// <param name="fd">The open file.</param>
        /// <param name="offset">Where to start.</param>
        /// <param name="whence">A SEEK_* value.</param>
        /// <returns>The resulting offset, or -1 with errno set (<see cref="ENXIO"/>: no data at or after the offset, or the offset is past the end).</returns>
        [LibraryImport(LibraryName, EntryPoint = "lseek64", SetLastError = true)]
        [SupportedOSPlatform("linux")]
        internal static partial long LSeek(SafeHandle fd, long offset, int whence);
    }
}

using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace BlockTorrent;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>Keeps the file size unchanged (needed with <see cref="FALLOC_FL_PUNCH_HOLE"/>).</summary>
        internal const int FALLOC_FL_KEEP_SIZE = 0x01;

        /// <summary>Deallocates the range: it reads back as zeros and takes no space.</summary>
        internal const int FALLOC_FL_PUNCH_HOLE = 0x02;

        /// <summary>Makes the range read as zeros, converting it to unwritten extents where the file system can.</summary>
        internal const int FALLOC_FL_ZERO_RANGE = 0x10;

        /// <summary>fallocate(2) with a 64-bit off_t on every ABI: manipulates the allocated space of a file.</summary>
        /// <param name="fd">The open file (a <c>SafeFileHandle</c> in the core, the Linux package's own handle there).</param>
        /// <param name="mode">A combination of FALLOC_FL_* flags.</param>
        /// <param name="offset">The start of the range.</param>
        /// <param name="len">The length of the range.</param>
        /// <returns>0 on success, -1 with errno set on failure.</returns>
        [LibraryImport(LibraryName, EntryPoint = "fallocate64", SetLastError = true)]
        [SupportedOSPlatform("linux")]
        internal static partial int FAllocate(SafeHandle fd, int mode, long offset, long len);
    }
}

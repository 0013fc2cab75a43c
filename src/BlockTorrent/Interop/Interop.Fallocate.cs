using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

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

        /// <summary>fallocate(2): manipulates the allocated space of a file. off_t is 64-bit on every 64-bit Linux ABI.</summary>
        /// <param name="fd">The open file.</param>
        /// <param name="mode">A combination of FALLOC_FL_* flags.</param>
        /// <param name="offset">The start of the range.</param>
        /// <param name="len">The length of the range.</param>
        /// <returns>0 on success, -1 with errno set on failure.</returns>
        [LibraryImport(LibraryName, EntryPoint = "fallocate", SetLastError = true)]
        [SupportedOSPlatform("linux")]
        internal static partial int Fallocate(SafeFileHandle fd, int mode, long offset, long len);
    }
}

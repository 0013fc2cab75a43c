using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace BlockTorrent;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>The range will be needed soon: the kernel starts reading it into the page cache.</summary>
        internal const int POSIX_FADV_WILLNEED = 3;

        /// <summary>posix_fadvise(2): tells the kernel how a file range will be used. off_t is 64-bit on every 64-bit Linux ABI.</summary>
        /// <param name="fd">The open file.</param>
        /// <param name="offset">The start of the range.</param>
        /// <param name="len">The length of the range (0: to the end of the file).</param>
        /// <param name="advice">A POSIX_FADV_* value.</param>
        /// <returns>0 on success, else the error number (errno is not set).</returns>
        [LibraryImport(LibraryName, EntryPoint = "posix_fadvise")]
        [SupportedOSPlatform("linux")]
        internal static partial int PosixFadvise(SafeFileHandle fd, long offset, long len, int advice);
    }
}

using System.Runtime.InteropServices;
using BlockTorrent.Devices.Linux;

namespace BlockTorrent;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>ftruncate(2) (64-bit off_t): sets a regular file's length; growing it leaves a hole.</summary>
        [LibraryImport(LibraryName, EntryPoint = "ftruncate64", SetLastError = true)]
        internal static partial int FTruncate(SafeDeviceHandle fd, long length);
    }
}

using System.Runtime.InteropServices;
using BlockTorrent.Devices.Linux;

namespace BlockTorrent;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>fallocate(2) (64-bit off_t): punch holes and zero ranges in regular files.</summary>
        [LibraryImport(LibraryName, EntryPoint = "fallocate64", SetLastError = true)]
        internal static partial int FAllocate(SafeDeviceHandle fd, int mode, long offset, long len);
    }
}

using System.Runtime.InteropServices;
using BlockTorrent.Devices.Linux;

namespace BlockTorrent;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>pwrite(2) (64-bit off_t). Returns the bytes written, or -1 with errno set.</summary>
        [LibraryImport(LibraryName, EntryPoint = "pwrite64", SetLastError = true)]
        internal static unsafe partial nint PWrite(SafeDeviceHandle fd, byte* buf, nuint count, long offset);
    }
}

using System.Runtime.InteropServices;
using BlockTorrent.Devices.Linux;

namespace BlockTorrent;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>pread(2) (64-bit off_t). Returns the bytes read, 0 at end of file, or -1 with errno set.</summary>
        [LibraryImport(LibraryName, EntryPoint = "pread64", SetLastError = true)]
        internal static unsafe partial nint PRead(SafeDeviceHandle fd, byte* buf, nuint count, long offset);
    }
}

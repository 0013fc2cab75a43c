using System.Runtime.InteropServices;
using BlockTorrent.Devices.Linux;

namespace BlockTorrent;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>ioctl(2) with a pointer argument (every block device request used here takes one, or ignores it).</summary>
        [LibraryImport(LibraryName, EntryPoint = "ioctl", SetLastError = true)]
        internal static unsafe partial int Ioctl(SafeDeviceHandle fd, nuint request, void* arg);
    }
}

using System.Runtime.InteropServices;
using BlockTorrent.Devices.Linux;

namespace BlockTorrent;

internal static partial class Interop
{
    internal static partial class Libc
    {
        /// <summary>fsync(2): flushes the page cache and the device's volatile write cache.</summary>
        [LibraryImport(LibraryName, EntryPoint = "fsync", SetLastError = true)]
        internal static partial int FSync(SafeDeviceHandle fd);
    }
}

using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        [LibraryImport(Libraries.Kernel32, SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        [SupportedOSPlatform("windows")]
        internal static partial bool FlushFileBuffers(SafeHandle hFile);
    }
}

using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        [LibraryImport(Libraries.Kernel32, EntryPoint = "FindFirstVolumeW", SetLastError = true)]
        [SupportedOSPlatform("windows")]
        internal static unsafe partial SafeFindVolumeHandle FindFirstVolume(char* lpszVolumeName, uint cchBufferLength);
    }
}

using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        [LibraryImport(Libraries.Kernel32, EntryPoint = "FindNextVolumeW", SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        [SupportedOSPlatform("windows")]
        internal static unsafe partial bool FindNextVolume(SafeFindVolumeHandle hFindVolume, char* lpszVolumeName, uint cchBufferLength);
    }
}

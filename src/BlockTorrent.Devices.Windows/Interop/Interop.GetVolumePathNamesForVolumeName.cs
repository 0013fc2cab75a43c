using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        [LibraryImport(Libraries.Kernel32, EntryPoint = "GetVolumePathNamesForVolumeNameW", SetLastError = true, StringMarshalling = StringMarshalling.Utf16)]
        [return: MarshalAs(UnmanagedType.Bool)]
        [SupportedOSPlatform("windows")]
        internal static unsafe partial bool GetVolumePathNamesForVolumeName(string lpszVolumeName, char* lpszVolumePathNames, uint cchBufferLength, out uint lpcchReturnLength);
    }
}

using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>Output of IOCTL_STORAGE_QUERY_PROPERTY for StorageDeviceTrimProperty (winioctl.h). 12 bytes.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct DEVICE_TRIM_DESCRIPTOR
        {
            internal uint Version;
            internal uint Size;
            internal byte TrimEnabled;
        }
    }
}

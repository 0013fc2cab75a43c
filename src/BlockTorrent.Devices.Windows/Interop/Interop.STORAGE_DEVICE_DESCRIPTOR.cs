using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>
        /// Output of IOCTL_STORAGE_QUERY_PROPERTY for StorageDeviceProperty (winioctl.h). 40 bytes of fixed part,
        /// followed by the NUL-terminated ASCII strings its offsets point at (offset 0 means "absent").
        /// </summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct STORAGE_DEVICE_DESCRIPTOR
        {
            internal uint Version;
            internal uint Size;
            internal byte DeviceType;
            internal byte DeviceTypeModifier;
            internal byte RemovableMedia;
            internal byte CommandQueueing;
            internal uint VendorIdOffset;
            internal uint ProductIdOffset;
            internal uint ProductRevisionOffset;
            internal uint SerialNumberOffset;
            internal int BusType;
            internal uint RawPropertiesLength;
            internal byte RawDeviceProperties;
        }
    }
}

using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>
        /// Output of IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS (winioctl.h). 32 bytes with its first extent; further
        /// extents follow at 24-byte steps from offset 8.
        /// </summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct VOLUME_DISK_EXTENTS
        {
            internal uint NumberOfDiskExtents;
            internal DISK_EXTENT Extents;
        }
    }
}

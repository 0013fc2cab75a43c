using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>
        /// Output of IOCTL_DISK_GET_DRIVE_GEOMETRY_EX (winioctl.h). 40 bytes; <see cref="Data"/> starts the
        /// variable DISK_PARTITION_INFO and DISK_DETECTION_INFO that this package does not read.
        /// </summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct DISK_GEOMETRY_EX
        {
            internal DISK_GEOMETRY Geometry;
            internal long DiskSize;
            internal byte Data;
        }
    }
}

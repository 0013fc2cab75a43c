using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>One extent of VOLUME_DISK_EXTENTS (winioctl.h). 24 bytes: 4 bytes of padding after DiskNumber.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct DISK_EXTENT
        {
            internal uint DiskNumber;
            internal long StartingOffset;
            internal long ExtentLength;
        }
    }
}

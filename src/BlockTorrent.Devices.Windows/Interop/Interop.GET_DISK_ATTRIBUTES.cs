using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>Output of IOCTL_DISK_GET_DISK_ATTRIBUTES (winioctl.h). 16 bytes.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct GET_DISK_ATTRIBUTES
        {
            internal uint Version;
            internal uint Reserved1;
            internal ulong Attributes;
        }
    }
}

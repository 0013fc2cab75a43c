using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>Output of IOCTL_DISK_GET_LENGTH_INFO (winioctl.h). 8 bytes.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct GET_LENGTH_INFORMATION
        {
            internal long Length;
        }
    }
}

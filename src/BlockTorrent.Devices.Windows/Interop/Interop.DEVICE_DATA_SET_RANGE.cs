using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>One byte range of a data set management request (winioctl.h). 16 bytes.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct DEVICE_DATA_SET_RANGE
        {
            internal long StartingOffset;
            internal ulong LengthInBytes;
        }
    }
}

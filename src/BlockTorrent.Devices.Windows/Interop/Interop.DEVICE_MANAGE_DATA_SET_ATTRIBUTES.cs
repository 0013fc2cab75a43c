using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>
        /// Input header of IOCTL_STORAGE_MANAGE_DATA_SET_ATTRIBUTES (DEVICE_DSM_INPUT, winioctl.h). 28 bytes,
        /// followed by an optional parameter block and the DEVICE_DATA_SET_RANGE array at 8-byte alignment.
        /// </summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct DEVICE_MANAGE_DATA_SET_ATTRIBUTES
        {
            internal uint Size;
            internal uint Action;
            internal uint Flags;
            internal uint ParameterBlockOffset;
            internal uint ParameterBlockLength;
            internal uint DataSetRangesOffset;
            internal uint DataSetRangesLength;
        }
    }
}

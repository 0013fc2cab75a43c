using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>The MBR arm of PARTITION_INFORMATION_EX (winioctl.h). 24 bytes.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct PARTITION_INFORMATION_MBR
        {
            internal byte PartitionType;
            internal byte BootIndicator;
            internal byte RecognizedPartition;
            internal uint HiddenSectors;
            internal Guid PartitionId;
        }
    }
}

using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>One partition of DRIVE_LAYOUT_INFORMATION_EX (winioctl.h). 144 bytes; the MBR and GPT arms share offset 32.</summary>
        [StructLayout(LayoutKind.Explicit)]
        internal struct PARTITION_INFORMATION_EX
        {
            [FieldOffset(0)]
            internal uint PartitionStyle;

            [FieldOffset(8)]
            internal long StartingOffset;

            [FieldOffset(16)]
            internal long PartitionLength;

            [FieldOffset(24)]
            internal uint PartitionNumber;

            [FieldOffset(28)]
            internal byte RewritePartition;

            [FieldOffset(29)]
            internal byte IsServicePartition;

            [FieldOffset(32)]
            internal PARTITION_INFORMATION_MBR Mbr;

            [FieldOffset(32)]
            internal PARTITION_INFORMATION_GPT Gpt;
        }
    }
}

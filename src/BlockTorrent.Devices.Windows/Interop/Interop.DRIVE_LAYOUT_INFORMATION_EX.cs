using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>
        /// Output of IOCTL_DISK_GET_DRIVE_LAYOUT_EX (winioctl.h). 192 bytes with its first partition; the header
        /// is 48 bytes (the MBR/GPT union is 40 bytes at offset 8) and partitions follow at 144-byte steps.
        /// </summary>
        [StructLayout(LayoutKind.Explicit)]
        internal struct DRIVE_LAYOUT_INFORMATION_EX
        {
            internal const int PartitionEntryOffset = 48;

            [FieldOffset(0)]
            internal uint PartitionStyle;

            [FieldOffset(4)]
            internal uint PartitionCount;

            [FieldOffset(8)]
            internal uint MbrSignature;

            [FieldOffset(8)]
            internal Guid GptDiskId;

            [FieldOffset(24)]
            internal long GptStartingUsableOffset;

            [FieldOffset(32)]
            internal long GptUsableLength;

            [FieldOffset(40)]
            internal uint GptMaxPartitionCount;

            [FieldOffset(PartitionEntryOffset)]
            internal PARTITION_INFORMATION_EX PartitionEntry;
        }
    }
}

using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>The GPT arm of PARTITION_INFORMATION_EX (winioctl.h). 112 bytes.</summary>
        [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
        internal unsafe struct PARTITION_INFORMATION_GPT
        {
            internal Guid PartitionType;
            internal Guid PartitionId;
            internal ulong Attributes;
            internal fixed char Name[36];
        }
    }
}

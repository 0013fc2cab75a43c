using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>
        /// Output of IOCTL_STORAGE_QUERY_PROPERTY for StorageDeviceLBProvisioningProperty (winioctl.h). 40 bytes
        /// (32 before Windows 8.1, without the two trailing counts). The C bit fields live in <see cref="Flags"/>.
        /// </summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct DEVICE_LB_PROVISIONING_DESCRIPTOR
        {
            internal const byte ThinProvisioningEnabledBit = 0x01;
            internal const byte ThinProvisioningReadZerosBit = 0x02;
            internal const byte UnmapGranularityAlignmentValidBit = 0x20;

            internal uint Version;
            internal uint Size;
            internal byte Flags;
            internal fixed byte Reserved1[7];
            internal ulong OptimalUnmapGranularity;
            internal ulong UnmapGranularityAlignment;
            internal uint MaxUnmapLbaCount;
            internal uint MaxUnmapBlockDescriptorCount;

            internal readonly bool ThinProvisioningEnabled => (Flags & ThinProvisioningEnabledBit) != 0;

            internal readonly bool ThinProvisioningReadZeros => (Flags & ThinProvisioningReadZerosBit) != 0;

            internal readonly bool UnmapGranularityAlignmentValid => (Flags & UnmapGranularityAlignmentValidBit) != 0;
        }
    }
}

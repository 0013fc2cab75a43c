using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>Output of IOCTL_STORAGE_QUERY_PROPERTY for StorageAccessAlignmentProperty (winioctl.h). 28 bytes.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR
        {
            internal uint Version;
            internal uint Size;
            internal uint BytesPerCacheLine;
            internal uint BytesOffsetForCacheAlignment;
            internal uint BytesPerLogicalSector;
            internal uint BytesPerPhysicalSector;
            internal uint BytesOffsetForSectorAlignment;
        }
    }
}

using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>Input of IOCTL_STORAGE_QUERY_PROPERTY (winioctl.h). 12 bytes.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct STORAGE_PROPERTY_QUERY
        {
            internal int PropertyId;
            internal int QueryType;
            internal byte AdditionalParameters;
        }
    }
}

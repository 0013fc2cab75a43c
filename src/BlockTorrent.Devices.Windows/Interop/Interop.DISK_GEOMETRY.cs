using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>The geometry part of DISK_GEOMETRY_EX (winioctl.h). 24 bytes.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct DISK_GEOMETRY
        {
            internal long Cylinders;
            internal int MediaType;
            internal uint TracksPerCylinder;
            internal uint SectorsPerTrack;
            internal uint BytesPerSector;
        }
    }
}

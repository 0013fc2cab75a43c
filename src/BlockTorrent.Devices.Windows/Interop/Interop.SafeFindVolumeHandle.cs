using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        /// <summary>The search handle of FindFirstVolumeW, closed with FindVolumeClose.</summary>
        [SupportedOSPlatform("windows")]
        internal sealed class SafeFindVolumeHandle : SafeHandleZeroOrMinusOneIsInvalid
        {
            public SafeFindVolumeHandle()
                : base(ownsHandle: true)
            {
            }

            protected override bool ReleaseHandle() => FindVolumeClose(handle);
        }
    }
}

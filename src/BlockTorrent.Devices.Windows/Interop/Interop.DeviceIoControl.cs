using System.Runtime.InteropServices;
using System.Runtime.Versioning;

namespace BlockTorrent.Devices.Windows;

internal static partial class Interop
{
    internal static partial class Kernel32
    {
        // Always called without an OVERLAPPED, so only on handles opened without FILE_FLAG_OVERLAPPED.
        [LibraryImport(Libraries.Kernel32, SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        [SupportedOSPlatform("windows")]
        internal static unsafe partial bool DeviceIoControl(
            SafeHandle hDevice,
            uint dwIoControlCode,
            void* lpInBuffer,
            uint nInBufferSize,
            void* lpOutBuffer,
            uint nOutBufferSize,
            out uint lpBytesReturned,
            NativeOverlapped* lpOverlapped);
    }
}

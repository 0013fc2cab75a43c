using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Linux;

/// <summary>Owns a Linux file descriptor for a device or image file and closes it exactly once.</summary>
internal sealed class SafeDeviceHandle : SafeHandle
{
    public SafeDeviceHandle()
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
    }

    public SafeDeviceHandle(int fd)
        : base(invalidHandleValue: -1, ownsHandle: true)
    {
        SetHandle(fd);
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle < 0;

    /// <inheritdoc />
    protected override bool ReleaseHandle() => Interop.Libc.Close((int)handle) == 0;
}

using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace BlockTorrent.Devices.Linux;

/// <summary>Turns errno values into the typed exceptions the rest of BlockTorrent understands (the hot paths throw through here).</summary>
internal static class DeviceErrors
{
    /// <summary>Creates the exception for a failed call with the given errno, naming the device, the call and the offset.</summary>
    public static BlockDeviceIOException Create(string device, string operation, long? offset, int errno) =>
        new(device, operation, offset, errno, Interop.Libc.Classify(errno), $"{Marshal.GetPInvokeErrorMessage(errno)} ({Name(errno)})");

    /// <summary>Throws for a failed call with the given errno.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Throw(string device, string operation, long? offset, int errno) => throw Create(device, operation, offset, errno);

    /// <summary>The symbolic name of the errno values operators meet most, for messages they can search for.</summary>
    public static string Name(int errno) => errno switch
    {
        Interop.Libc.EPERM => "EPERM",
        Interop.Libc.ENOENT => "ENOENT",
        Interop.Libc.EIO => "EIO",
        Interop.Libc.ENXIO => "ENXIO",
        Interop.Libc.EBADF => "EBADF",
        Interop.Libc.EACCES => "EACCES",
        Interop.Libc.EBUSY => "EBUSY",
        Interop.Libc.ENODEV => "ENODEV",
        Interop.Libc.EINVAL => "EINVAL",
        Interop.Libc.ENOTTY => "ENOTTY",
        Interop.Libc.ENOSPC => "ENOSPC",
        Interop.Libc.EROFS => "EROFS",
        Interop.Libc.EOPNOTSUPP => "EOPNOTSUPP",
        _ => "errno " + errno.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Whether an errno says the kernel or file system does not offer a call (so a fallback applies).</summary>
    public static bool IsUnsupported(int errno) =>
        errno is Interop.Libc.EOPNOTSUPP or Interop.Libc.ENOTTY or Interop.Libc.ENOSYS or Interop.Libc.EINVAL;
}

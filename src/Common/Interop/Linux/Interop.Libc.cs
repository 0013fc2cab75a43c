using BlockTorrent.Devices;

namespace BlockTorrent;

/// <summary>
/// Native calls, one import per <c>Interop.&lt;Function&gt;.cs</c> file, named as in C. Every caller guards them with
/// <see cref="OperatingSystem.IsLinux"/> (or runs in a package marked <c>[SupportedOSPlatform("linux")]</c>).
/// </summary>
internal static partial class Interop
{
    /// <summary>The C library (glibc or musl) of a Linux process; constants keep their native names.</summary>
    internal static partial class Libc
    {
        /// <summary>The library name the imports bind to.</summary>
        internal const string LibraryName = "libc";

        // <asm-generic/errno-base.h> / <asm-generic/errno.h>
        internal const int EPERM = 1;
        internal const int ENOENT = 2;
        internal const int EINTR = 4;
        internal const int EIO = 5;
        internal const int ENXIO = 6;
        internal const int EBADF = 9;
        internal const int EAGAIN = 11;
        internal const int EACCES = 13;
        internal const int EBUSY = 16;
        internal const int ENODEV = 19;
        internal const int EINVAL = 22;
        internal const int ENOTTY = 25;
        internal const int ENOSPC = 28;
        internal const int EROFS = 30;
        internal const int ENOSYS = 38;
        internal const int EOPNOTSUPP = 95;

        /// <summary>Classifies a Linux errno portably: the one mapping every package uses.</summary>
        /// <param name="errno">The error number.</param>
        /// <returns>The kind of failure.</returns>
        internal static BlockDeviceErrorKind Classify(int errno) => errno switch
        {
            EIO => BlockDeviceErrorKind.MediaError,
            ENOSPC => BlockDeviceErrorKind.NoSpace,
            EROFS => BlockDeviceErrorKind.ReadOnly,
            EBUSY => BlockDeviceErrorKind.Busy,
            ENOENT or ENXIO or ENODEV => BlockDeviceErrorKind.NotFound,
            EACCES or EPERM => BlockDeviceErrorKind.AccessDenied,
            _ => BlockDeviceErrorKind.Other,
        };
    }
}

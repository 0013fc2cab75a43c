using BlockTorrent.Devices;

namespace BlockTorrent;

/// <summary>Native calls the core makes itself. Every caller guards them with <see cref="OperatingSystem.IsLinux"/>.</summary>
internal static partial class Interop
{
    /// <summary>The C library (glibc or musl) of a Linux process.</summary>
    internal static partial class Libc
    {
        /// <summary>The library name the imports bind to.</summary>
        internal const string LibraryName = "libc";

        /// <summary>Operation not supported (Linux errno 95).</summary>
        internal const int EOPNOTSUPP = 95;

        /// <summary>Function not implemented (Linux errno 38).</summary>
        internal const int ENOSYS = 38;

        /// <summary>Invalid argument (Linux errno 22); some file systems answer an unsupported fallocate mode with it.</summary>
        internal const int EINVAL = 22;

        /// <summary>Interrupted system call (Linux errno 4): the call is retried.</summary>
        internal const int EINTR = 4;

        /// <summary>Classifies a Linux errno portably.</summary>
        /// <param name="errno">The error number.</param>
        /// <returns>The kind of failure.</returns>
        internal static BlockDeviceErrorKind Classify(int errno) => errno switch
        {
            5 => BlockDeviceErrorKind.MediaError, // EIO
            28 => BlockDeviceErrorKind.NoSpace, // ENOSPC
            30 => BlockDeviceErrorKind.ReadOnly, // EROFS
            1 or 13 => BlockDeviceErrorKind.AccessDenied, // EPERM, EACCES
            16 => BlockDeviceErrorKind.Busy, // EBUSY
            _ => BlockDeviceErrorKind.Other,
        };
    }
}

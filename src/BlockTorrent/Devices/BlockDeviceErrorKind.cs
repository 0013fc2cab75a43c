namespace BlockTorrent.Devices;

/// <summary>
/// What went wrong in a failed device call, independent of the platform's error numbering, so the engine can
/// react to it (stop on a read-only or full device, count media errors) without knowing errno or Win32 codes.
/// </summary>
public enum BlockDeviceErrorKind
{
    /// <summary>Any failure that has no more specific kind; <see cref="BlockDeviceIOException.NativeErrorCode"/> says which.</summary>
    Other = 0,

    /// <summary>The medium failed the transfer (EIO, ERROR_CRC, ERROR_IO_DEVICE).</summary>
    MediaError = 1,

    /// <summary>The device or file has no room for the data (ENOSPC, ERROR_DISK_FULL).</summary>
    NoSpace = 2,

    /// <summary>The device refuses writes (EROFS, ERROR_WRITE_PROTECT).</summary>
    ReadOnly = 3,

    /// <summary>The device is in use by someone else and refused an exclusive open (EBUSY, ERROR_SHARING_VIOLATION).</summary>
    Busy = 4,

    /// <summary>The device does not exist or has gone away (ENOENT, ENXIO, ENODEV, ERROR_FILE_NOT_FOUND).</summary>
    NotFound = 5,

    /// <summary>The caller lacks the rights to open or change the device (EACCES, EPERM, ERROR_ACCESS_DENIED).</summary>
    AccessDenied = 6,
}

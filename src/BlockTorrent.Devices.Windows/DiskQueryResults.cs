namespace BlockTorrent.Devices.Windows;

/// <summary>
/// The raw outputs of the IOCTLs that describe one disk, exactly as Windows returned them. <see cref="WindowsDiskProbe"/>
/// fills it on Windows; tests fill it with recorded or constructed bytes; <see cref="WindowsDiskBuilder"/> reads it.
/// A query the disk does not support leaves its buffer <see langword="null"/>.
/// </summary>
internal sealed class DiskQueryResults
{
    /// <summary>Gets the disk number.</summary>
    public required int Number { get; init; }

    /// <summary>Gets the GET_LENGTH_INFORMATION (it needs read access; without it the geometry's disk size is used).</summary>
    public byte[]? LengthInfo { get; init; }

    /// <summary>Gets the DISK_GEOMETRY_EX.</summary>
    public byte[]? GeometryEx { get; init; }

    /// <summary>Gets the STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR (many USB bridges do not answer it).</summary>
    public byte[]? AccessAlignment { get; init; }

    /// <summary>Gets the STORAGE_DEVICE_DESCRIPTOR with its strings.</summary>
    public byte[]? DeviceDescriptor { get; init; }

    /// <summary>Gets the DEVICE_TRIM_DESCRIPTOR.</summary>
    public byte[]? Trim { get; init; }

    /// <summary>Gets the DEVICE_LB_PROVISIONING_DESCRIPTOR.</summary>
    public byte[]? LogicalBlockProvisioning { get; init; }

    /// <summary>Gets the GET_DISK_ATTRIBUTES.</summary>
    public byte[]? DiskAttributes { get; init; }

    /// <summary>Gets a value indicating whether IOCTL_DISK_IS_WRITABLE failed with ERROR_WRITE_PROTECT (write-protected media).</summary>
    public bool WriteProtected { get; init; }

    /// <summary>Gets the DRIVE_LAYOUT_INFORMATION_EX with its partitions.</summary>
    public byte[]? DriveLayout { get; init; }
}

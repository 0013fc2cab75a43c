namespace BlockTorrent.Devices.Linux;

/// <summary>How <see cref="LinuxBlockDevice"/> opens a target. Safe by default: every check runs and nothing is forced.</summary>
public sealed class LinuxBlockDeviceOptions
{
    /// <summary>Gets the defaults: writable, O_DIRECT, exclusive, no size requirement, no force, no dry run.</summary>
    public static LinuxBlockDeviceOptions Default { get; } = new();

    /// <summary>Gets or sets a value indicating whether the target is opened for reading only (no safety checks apply then).</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool ReadOnly { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether block devices are opened with O_DIRECT, bypassing the page cache.
    /// Image files always use the page cache.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool DirectIO { get; set; } = true;

    /// <summary>
    /// Gets or sets the number of bytes the target must hold (the image length). A smaller target is refused with
    /// <see cref="DeviceRefusalReason.TooSmall"/>; <see cref="Force"/> cannot override that.
    /// </summary>
    /// <value>The default is <see langword="null"/>: no requirement.</value>
    public long? MinimumLength { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether refusals that an operator may sanely override are overridden: a
    /// mounted target and a target held by device-mapper, md or LVM, as the device snapshot shows them. Never
    /// overridden: the disk holding the running root filesystem, a read-only device, a device smaller than the
    /// image, and the kernel's own refusal of the exclusive claim (see <see cref="Exclusive"/>).
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool Force { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a block device opened for writing is claimed exclusively (O_EXCL):
    /// the kernel then refuses the open while the device or a partition of it is mounted, held by device-mapper, md,
    /// LVM or ZFS, or claimed by another program, whatever the snapshot showed. Turning it off is separate from
    /// <see cref="Force"/> on purpose: it lets a write land under a mounted file system or a running array.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Exclusive { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether the device is opened for a dry run: every safety check a write would
    /// get still runs (and the device is still claimed with O_EXCL unless <see cref="Exclusive"/> is off), but the device is
    /// opened read-only. Wrap it in a <see cref="DryRunBlockDevice"/>, which records what would have been written.
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool DryRun { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether disposing a whole-disk device that was written to asks the kernel to
    /// re-read its partition table (BLKRRPART), so the new partitions appear.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool RereadPartitionTableOnDispose { get; set; } = true;

    /// <summary>Throws when a value is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><see cref="MinimumLength"/> is negative.</exception>
    /// <exception cref="ArgumentException"><see cref="ReadOnly"/> and <see cref="DryRun"/> are both set.</exception>
    public void Validate()
    {
        if (MinimumLength is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MinimumLength), MinimumLength, "The minimum length must not be negative.");
        }

        if (ReadOnly && DryRun)
        {
            throw new ArgumentException("A dry run is checked as a write would be, which ReadOnly skips; set one of them.", nameof(DryRun));
        }
    }
}

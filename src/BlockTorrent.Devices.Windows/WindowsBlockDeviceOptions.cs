namespace BlockTorrent.Devices.Windows;

/// <summary>How <see cref="WindowsBlockDevice"/> opens a physical disk.</summary>
public sealed class WindowsBlockDeviceOptions
{
    /// <summary>Gets or sets a value indicating whether to open the disk for reading only (to seed or hash it).</summary>
    /// <value>The default is <see langword="false"/>. A read-only open locks no volume and applies no write safety checks.</value>
    public bool ReadOnly { get; set; }

    /// <summary>Gets or sets the number of bytes the disk must hold: the image's length. A smaller disk is refused.</summary>
    /// <value>The default is 0 (any size).</value>
    public long MinimumLength { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether refusals that an operator may sanely override are overridden. On
    /// Windows that is one: a volume that cannot be locked (because a program has files open on it) is dismounted
    /// anyway, which invalidates those programs' open handles. Never overridden: the disk of the running system,
    /// a read-only or offline disk, and a disk smaller than the image.
    /// </summary>
    /// <value>The default is <see langword="false"/>: a volume that cannot be locked refuses the disk, naming the volume.</value>
    public bool Force { get; set; }

    /// <summary>Gets or sets how many times to try FSCTL_LOCK_VOLUME on each volume before giving up.</summary>
    /// <value>The default is 10. Indexers and antivirus scanners hold volumes briefly, so a first failure is often transient.</value>
    public int VolumeLockAttempts { get; set; } = 10;

    /// <summary>Gets or sets the wait between two attempts to lock a volume.</summary>
    /// <value>The default is 500 milliseconds.</value>
    public TimeSpan VolumeLockRetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Gets or sets a value indicating whether <see cref="WindowsBlockDevice.ZeroRangeAsync"/> may trim instead of
    /// writing zeros, on disks that promise trimmed sectors read back as zeros. Only whole trim units are trimmed;
    /// the edges are written.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool ZeroByTrim { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether disposing a device that was written flushes it and asks Windows to
    /// re-read its partition table (IOCTL_DISK_UPDATE_PROPERTIES), so the new volumes appear.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool RereadPartitionTableOnDispose { get; set; } = true;

    /// <summary>Checks the options and throws, naming the first bad one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public void Validate()
    {
        if (MinimumLength < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MinimumLength), MinimumLength, "MinimumLength must not be negative.");
        }

        if (VolumeLockAttempts < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(VolumeLockAttempts), VolumeLockAttempts, "VolumeLockAttempts must be at least 1.");
        }

        if (VolumeLockRetryDelay < TimeSpan.Zero || VolumeLockRetryDelay > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentOutOfRangeException(nameof(VolumeLockRetryDelay), VolumeLockRetryDelay, "VolumeLockRetryDelay must be between 0 and 1 minute.");
        }
    }
}

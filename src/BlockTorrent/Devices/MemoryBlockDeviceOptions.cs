namespace BlockTorrent.Devices;

/// <summary>The geometry and powers a <see cref="MemoryBlockDevice"/> reports, so tests can stand in for any disk.</summary>
public sealed class MemoryBlockDeviceOptions
{
    /// <summary>Gets the default options: 512-byte sectors, writable, able to zero ranges, no discard.</summary>
    public static MemoryBlockDeviceOptions Default { get; } = new();

    /// <summary>Gets or sets the device name used in errors and logs.</summary>
    /// <value>The default is <c>"memory"</c>.</value>
    public string Name { get; set; } = "memory";

    /// <summary>Gets or sets the reported logical sector size.</summary>
    /// <value>The default is 512. It must be a power of two between 512 and 65536.</value>
    public int LogicalSectorSize { get; set; } = 512;

    /// <summary>Gets or sets the reported physical sector size.</summary>
    /// <value>The default is 4096. It must be a power of two, at least <see cref="LogicalSectorSize"/>.</value>
    public int PhysicalSectorSize { get; set; } = 4096;

    /// <summary>Gets or sets the reported memory alignment.</summary>
    /// <value>The default is 1. It must be a power of two.</value>
    public int MemoryAlignment { get; set; } = 1;

    /// <summary>Gets or sets a value indicating whether writes are refused.</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool ReadOnly { get; set; }

    /// <summary>Gets or sets a value indicating whether <see cref="IBlockDevice.DiscardAsync"/> is available.</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool CanDiscard { get; set; }

    /// <summary>Gets or sets a value indicating whether a discarded range reads back as zeros.</summary>
    /// <value>
    /// The default is <see langword="false"/>: a discarded range is then filled with <see cref="DiscardFill"/>, so code
    /// that wrongly relies on discard zeroing data is caught.
    /// </value>
    public bool DiscardZeroesData { get; set; }

    /// <summary>Gets or sets the byte a discarded range reads as when <see cref="DiscardZeroesData"/> is <see langword="false"/>.</summary>
    /// <value>The default is 0xDB.</value>
    public byte DiscardFill { get; set; } = 0xDB;

    /// <summary>Gets or sets a value indicating whether <see cref="IBlockDevice.ZeroRangeAsync"/> is available.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool CanZeroRange { get; set; } = true;

    internal void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Name);
        if (LogicalSectorSize < 512 || LogicalSectorSize > 65536 || !int.IsPow2(LogicalSectorSize))
        {
            throw new ArgumentOutOfRangeException(nameof(LogicalSectorSize), LogicalSectorSize, "The logical sector size must be a power of two between 512 and 65536.");
        }

        if (PhysicalSectorSize < LogicalSectorSize || !int.IsPow2(PhysicalSectorSize))
        {
            throw new ArgumentOutOfRangeException(nameof(PhysicalSectorSize), PhysicalSectorSize, "The physical sector size must be a power of two, at least the logical sector size.");
        }

        if (MemoryAlignment < 1 || !int.IsPow2(MemoryAlignment))
        {
            throw new ArgumentOutOfRangeException(nameof(MemoryAlignment), MemoryAlignment, "The memory alignment must be a power of two.");
        }
    }
}

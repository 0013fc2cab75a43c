namespace BlockTorrent.Devices;

/// <summary>How <see cref="FileBlockDevice"/> opens or creates an image file.</summary>
public sealed class FileBlockDeviceOptions
{
    /// <summary>Gets the default options: writable, sparse, no write-through.</summary>
    public static FileBlockDeviceOptions Default { get; } = new();

    /// <summary>Gets or sets a value indicating whether the file is opened for reading only.</summary>
    /// <value>The default is <see langword="false"/>. <see cref="FileBlockDevice.Create"/> ignores it.</value>
    public bool ReadOnly { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether zero ranges become holes (<c>FALLOC_FL_PUNCH_HOLE</c>) so all-zero
    /// pieces take no space in the file. When <see langword="false"/>, zero ranges stay allocated
    /// (<c>FALLOC_FL_ZERO_RANGE</c>). Where the platform or file system supports neither, zeros are written.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Sparse { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether <see cref="FileBlockDevice.Create"/> replaces an existing file.</summary>
    /// <value>The default is <see langword="false"/>: creating over an existing file throws <see cref="IOException"/>.</value>
    public bool Overwrite { get; set; }

    /// <summary>Gets or sets the sector size the device reports as <see cref="IBlockDevice.LogicalSectorSize"/>.</summary>
    /// <value>The default is 512. It must be a power of two between 512 and 65536.</value>
    public int SectorSize { get; set; } = 512;

    internal void Validate()
    {
        if (SectorSize < 512 || SectorSize > 65536 || !int.IsPow2(SectorSize))
        {
            throw new ArgumentOutOfRangeException(nameof(SectorSize), SectorSize, "The sector size must be a power of two between 512 and 65536.");
        }
    }
}

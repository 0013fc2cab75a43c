using System.Globalization;

namespace BlockTorrent.Devices.Windows;

/// <summary>
/// A snapshot of one physical disk as Windows described it when it was enumerated or opened: identity, size,
/// sectors, capabilities, state and volumes. It does not change when the disk does; enumerate again for news.
/// </summary>
public sealed class WindowsDisk
{
    internal WindowsDisk()
    {
    }

    /// <summary>Gets the disk number N, as in <c>\\.\PhysicalDriveN</c>.</summary>
    public int Number { get; internal init; }

    /// <summary>Gets the path that opens the disk, <c>\\.\PhysicalDriveN</c>.</summary>
    public string Path => PhysicalDrivePath.Format(Number);

    /// <summary>Gets the size of the disk in bytes.</summary>
    public long Length { get; internal init; }

    /// <summary>Gets the vendor reported by the device, or an empty string.</summary>
    public string Vendor { get; internal init; } = string.Empty;

    /// <summary>Gets the product reported by the device, or an empty string.</summary>
    public string Product { get; internal init; } = string.Empty;

    /// <summary>Gets the product revision (firmware) reported by the device, or an empty string.</summary>
    public string Revision { get; internal init; } = string.Empty;

    /// <summary>Gets the serial number reported by the device, or an empty string.</summary>
    public string SerialNumber { get; internal init; } = string.Empty;

    /// <summary>Gets the model: vendor and product joined, as a person would name the disk.</summary>
    public string Model => (Vendor.Length, Product.Length) switch
    {
        (0, 0) => "unknown model",
        (0, _) => Product,
        (_, 0) => Vendor,
        _ => Product.StartsWith(Vendor, StringComparison.OrdinalIgnoreCase) ? Product : Vendor + " " + Product,
    };

    /// <summary>Gets the bus the disk is attached through.</summary>
    public WindowsBusType BusType { get; internal init; }

    /// <summary>Gets a value indicating whether the device reports removable media.</summary>
    public bool IsRemovable { get; internal init; }

    /// <summary>Gets a value indicating whether the disk refuses writes (write-protected media or the read-only disk attribute).</summary>
    public bool IsReadOnly { get; internal init; }

    /// <summary>Gets a value indicating whether Windows holds the disk offline.</summary>
    public bool IsOffline { get; internal init; }

    /// <summary>Gets the logical sector size in bytes: the unit of every unbuffered transfer.</summary>
    public int LogicalSectorSize { get; internal init; }

    /// <summary>Gets the physical sector size in bytes: the unit the disk writes without a read-modify-write.</summary>
    public int PhysicalSectorSize { get; internal init; }

    /// <summary>Gets a value indicating whether the disk accepts TRIM/UNMAP requests.</summary>
    public bool SupportsTrim { get; internal init; }

    /// <summary>Gets a value indicating whether the disk promises that trimmed (unmapped) sectors read back as zeros.</summary>
    public bool TrimReadsZeros { get; internal init; }

    /// <summary>Gets the unit, in bytes, in which the disk actually unmaps; trims smaller or misaligned may be ignored.</summary>
    public long TrimGranularity { get; internal init; }

    /// <summary>Gets the byte offset of the first whole trim unit (the unmap granularity alignment).</summary>
    public long TrimAlignment { get; internal init; }

    /// <summary>Gets the partition table style Windows found.</summary>
    public WindowsPartitionStyle PartitionStyle { get; internal init; }

    /// <summary>Gets the number of partitions in use.</summary>
    public int PartitionCount { get; internal init; }

    /// <summary>Gets a value indicating whether the disk holds the system volume: the partition the firmware started the running Windows from.</summary>
    public bool HoldsSystemVolume { get; internal init; }

    /// <summary>Gets a value indicating whether the disk holds the boot volume: the volume with the running Windows directory.</summary>
    public bool HoldsBootVolume { get; internal init; }

    /// <summary>Gets the running Windows' boot volume as named in messages, when this disk holds it.</summary>
    internal string? BootVolume { get; init; }

    /// <summary>Gets the running Windows' system volume as named in messages, when this disk holds it.</summary>
    internal string? SystemVolume { get; init; }

    /// <summary>Gets the volumes that use this disk, in whole or in part.</summary>
    public IReadOnlyList<WindowsVolume> Volumes { get; internal init; } = [];

    /// <summary>Gets a one-line description: path, model, bus, size and state.</summary>
    /// <returns>The description.</returns>
    public override string ToString()
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{Path}: {Model} ({BusType}), {ByteSize.Format(Length)}");
        if (IsRemovable)
        {
            text.Append(", removable");
        }

        if (HoldsSystemVolume || HoldsBootVolume)
        {
            text.Append(", system disk");
        }

        if (IsOffline)
        {
            text.Append(", offline");
        }

        if (IsReadOnly)
        {
            text.Append(", read-only");
        }

        if (Volumes.Count > 0)
        {
            text.Append(", volumes: ").AppendJoin("; ", Volumes.Select(v => v.DisplayName));
        }

        return text.ToString();
    }
}

using System.Globalization;
using System.Text;

namespace BlockTorrent.Devices.Windows;

/// <summary>
/// A dry run: what opening a disk with given options would do, and what imaging it would change, without
/// locking, dismounting or writing anything. Obtain one with <see cref="WindowsBlockDevice.PlanAsync"/>.
/// </summary>
public sealed class WindowsDiskPlan
{
    private WindowsDiskPlan(WindowsDisk disk, long imageLength, bool readOnly, DeviceSafetyException? refusal, bool zeroesByTrim, string description)
    {
        Disk = disk;
        ImageLength = imageLength;
        ReadOnly = readOnly;
        Refusal = refusal;
        ZeroesByTrim = zeroesByTrim;
        Description = description;
    }

    /// <summary>Gets the disk as it is now.</summary>
    public WindowsDisk Disk { get; }

    /// <summary>Gets the number of bytes the image would write from offset 0 (the options' minimum length).</summary>
    public long ImageLength { get; }

    /// <summary>Gets a value indicating whether the disk would be opened for reading only.</summary>
    public bool ReadOnly { get; }

    /// <summary>Gets the refusal opening would raise, or <see langword="null"/> when the disk would be accepted.</summary>
    public DeviceSafetyException? Refusal { get; }

    /// <summary>Gets a value indicating whether opening would be allowed.</summary>
    public bool IsAllowed => Refusal is null;

    /// <summary>Gets the volumes that would be locked and dismounted before writing.</summary>
    public IReadOnlyList<WindowsVolume> VolumesToDismount => ReadOnly || !IsAllowed ? [] : Disk.Volumes;

    /// <summary>Gets a value indicating whether all-zero ranges would be trimmed rather than written.</summary>
    public bool ZeroesByTrim { get; }

    /// <summary>Gets the plan in words, one step per line, for an operator to confirm.</summary>
    public string Description { get; }

    /// <inheritdoc />
    public override string ToString() => Description;

    internal static WindowsDiskPlan Create(WindowsDisk disk, WindowsBlockDeviceOptions options)
    {
        ArgumentNullException.ThrowIfNull(disk);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Target {disk.Path}: {disk.Model} ({disk.BusType}{(disk.IsRemovable ? ", removable" : string.Empty)}), {ByteSize.Format(disk.Length)}, ")
            .Append(CultureInfo.InvariantCulture, $"sectors {disk.LogicalSectorSize}/{disk.PhysicalSectorSize} bytes, ")
            .Append(disk.PartitionStyle == WindowsPartitionStyle.Raw
                ? "no partition table."
                : string.Create(CultureInfo.InvariantCulture, $"{disk.PartitionStyle} partition table with {disk.PartitionCount} partition(s)."))
            .AppendLine();

        if (options.ReadOnly)
        {
            text.AppendLine("Would open it read-only: nothing would be locked, dismounted or written.");
            return new WindowsDiskPlan(disk, options.MinimumLength, readOnly: true, refusal: null, zeroesByTrim: false, text.ToString());
        }

        DeviceSafetyException? refusal = WindowsDiskSafety.Evaluate(disk, options.MinimumLength);
        if (refusal is not null)
        {
            text.Append("Refused: ").AppendLine(refusal.Message);
            return new WindowsDiskPlan(disk, options.MinimumLength, readOnly: false, refusal, zeroesByTrim: false, text.ToString());
        }

        if (disk.Volumes.Count == 0)
        {
            text.AppendLine("No volume uses it: nothing to dismount.");
        }
        else
        {
            text.Append(CultureInfo.InvariantCulture, $"Would lock and dismount {disk.Volumes.Count} volume(s): ")
                .AppendJoin("; ", disk.Volumes.Select(v => v.DisplayName))
                .AppendLine(options.Force
                    ? ". A volume that cannot be locked would be dismounted anyway (Force): programs with files open on it lose them."
                    : ". A volume that cannot be locked refuses the disk.");
        }

        long image = options.MinimumLength;
        text.Append(image == 0
            ? "Would write the image from offset 0 (its length is not known to this plan)."
            : string.Create(CultureInfo.InvariantCulture, $"Would write {ByteSize.Format(image)} at offsets [0, {image}); the last {ByteSize.Format(disk.Length - image)} stay as they are."))
            .AppendLine();

        bool zeroesByTrim = options.ZeroByTrim && disk.TrimReadsZeros;
        text.AppendLine(zeroesByTrim
            ? string.Create(CultureInfo.InvariantCulture, $"All-zero ranges would be trimmed in whole units of {disk.TrimGranularity} bytes (the disk reads trimmed sectors as zeros); their edges written as zeros.")
            : disk.SupportsTrim
                ? "All-zero ranges would be written as zeros: the disk trims, but does not promise trimmed sectors read as zeros."
                : "All-zero ranges would be written as zeros: the disk does not trim.");
        text.AppendLine(options.RereadPartitionTableOnDispose
            ? "Then: flush the disk's cache and ask Windows to re-read the partition table."
            : "Then: flush the disk's cache.");
        return new WindowsDiskPlan(disk, image, readOnly: false, refusal: null, zeroesByTrim, text.ToString());
    }
}

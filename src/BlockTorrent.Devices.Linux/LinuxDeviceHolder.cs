namespace BlockTorrent.Devices.Linux;

/// <summary>A virtual block device stacked on a disk or partition (from <c>/sys/block/X/holders</c>).</summary>
public sealed record LinuxDeviceHolder
{
    /// <summary>Gets the kernel name, for example <c>dm-0</c> or <c>md127</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the kind of holder.</summary>
    public required LinuxHolderKind Kind { get; init; }

    /// <summary>Gets the friendly name when there is one (the device-mapper name such as <c>vg0-root</c>, or the md array name).</summary>
    public string? FriendlyName { get; init; }

    /// <summary>Gets where the holder itself, or anything stacked on it, is mounted.</summary>
    public IReadOnlyList<string> MountPoints { get; init; } = [];

    /// <summary>Describes the holder, for example <c>dm-0 (LVM vg0-root, mounted on /)</c>.</summary>
    /// <returns>The description.</returns>
    public override string ToString()
    {
        string kind = Kind switch
        {
            LinuxHolderKind.Lvm => "LVM",
            LinuxHolderKind.Md => "md RAID",
            LinuxHolderKind.DeviceMapper => "device-mapper",
            _ => "holder",
        };
        string name = FriendlyName is null ? kind : $"{kind} {FriendlyName}";
        string mounts = MountPoints.Count == 0 ? string.Empty : $", mounted on {string.Join(", ", MountPoints)}";
        return $"{Name} ({name}{mounts})";
    }
}

namespace BlockTorrent.Devices.Linux;

/// <summary>
/// A whole block device (disk, loop device, md array, device-mapper target) as the kernel currently sees it, read
/// from <c>/sys/block</c>, <c>/proc/self/mountinfo</c> and <c>/proc/swaps</c>. A snapshot: it does not change.
/// </summary>
public sealed record LinuxBlockDeviceInfo
{
    /// <summary>Gets the kernel name, for example <c>sda</c>, <c>nvme0n1</c>, <c>mmcblk0</c> or <c>loop3</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the device node, for example <c>/dev/sda</c>.</summary>
    public required string Path { get; init; }

    /// <summary>Gets the size in bytes.</summary>
    public long Size { get; init; }

    /// <summary>Gets the device number as <c>major:minor</c>.</summary>
    public string? DeviceNumber { get; init; }

    /// <summary>Gets the model reported by the device, when it reports one.</summary>
    public string? Model { get; init; }

    /// <summary>Gets the serial number reported by the device, when it reports one.</summary>
    public string? Serial { get; init; }

    /// <summary>Gets the logical sector size in bytes.</summary>
    public int LogicalSectorSize { get; init; } = 512;

    /// <summary>Gets the physical sector size in bytes.</summary>
    public int PhysicalSectorSize { get; init; } = 512;

    /// <summary>Gets a value indicating whether the medium is removable (USB sticks, SD cards).</summary>
    public bool IsRemovable { get; init; }

    /// <summary>Gets a value indicating whether the device is rotational (a spinning disk).</summary>
    public bool IsRotational { get; init; }

    /// <summary>Gets a value indicating whether the device is read-only.</summary>
    public bool IsReadOnly { get; init; }

    /// <summary>Gets the backing file of a loop device, or <see langword="null"/>.</summary>
    public string? BackingFile { get; init; }

    /// <summary>Gets where the whole device is mounted (<c>[SWAP]</c> for an active swap area).</summary>
    public IReadOnlyList<string> MountPoints { get; init; } = [];

    /// <summary>Gets the partitions, in order.</summary>
    public IReadOnlyList<LinuxPartitionInfo> Partitions { get; init; } = [];

    /// <summary>Gets the virtual devices stacked on the whole device (device-mapper, md, LVM).</summary>
    public IReadOnlyList<LinuxDeviceHolder> Holders { get; init; } = [];

    /// <summary>Gets a value indicating whether the running system's root filesystem lives on the device (itself, a partition, or through a holder).</summary>
    public bool HoldsRootFilesystem { get; init; }

    /// <summary>
    /// Gets where the device, one of its partitions, or a device stacked on either (device-mapper, LVM, md) is
    /// mounted read-write, and <c>[SWAP]</c> when one of them is active swap: what may write to the device while it is read.
    /// </summary>
    public IReadOnlyList<string> ReadWriteMountPoints { get; init; } = [];
}

namespace BlockTorrent.Devices.Linux;

/// <summary>A partition of a disk, as the kernel currently sees it.</summary>
public sealed record LinuxPartitionInfo
{
    /// <summary>Gets the kernel name, for example <c>sda1</c> or <c>nvme0n1p2</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Gets the device node, for example <c>/dev/sda1</c>.</summary>
    public required string Path { get; init; }

    /// <summary>Gets the partition number.</summary>
    public int Number { get; init; }

    /// <summary>Gets the offset of the partition on its disk, in bytes.</summary>
    public long Start { get; init; }

    /// <summary>Gets the size in bytes.</summary>
    public long Size { get; init; }

    /// <summary>Gets the device number as <c>major:minor</c>.</summary>
    public string? DeviceNumber { get; init; }

    /// <summary>Gets a value indicating whether the partition is read-only.</summary>
    public bool IsReadOnly { get; init; }

    /// <summary>Gets where the partition is mounted (<c>[SWAP]</c> for an active swap area).</summary>
    public IReadOnlyList<string> MountPoints { get; init; } = [];

    /// <summary>Gets the virtual devices stacked on the partition (device-mapper, md, LVM).</summary>
    public IReadOnlyList<LinuxDeviceHolder> Holders { get; init; } = [];

    /// <summary>Gets a value indicating whether the running system's root filesystem lives on the partition, directly or through a holder.</summary>
    public bool HoldsRootFilesystem { get; init; }

    /// <summary>
    /// Gets where the partition, or a device stacked on it (device-mapper, LVM, md), is mounted read-write, and
    /// <c>[SWAP]</c> when it is active swap: what may write to it while it is read.
    /// </summary>
    public IReadOnlyList<string> ReadWriteMountPoints { get; init; } = [];
}

namespace BlockTorrent.Devices.Linux;

/// <summary>Lists the block devices of the running system, with their partitions, mounts and holders.</summary>
public static class LinuxBlockDevices
{
    /// <summary>
    /// Reads every block device from <c>/sys/block</c> with its partitions, where it and they are mounted
    /// (<c>/proc/self/mountinfo</c>, active swap from <c>/proc/swaps</c>), what is stacked on them (device-mapper,
    /// md, LVM) and whether the running root filesystem lives on it.
    /// </summary>
    /// <returns>A snapshot of the devices, ordered by name.</returns>
    public static IReadOnlyList<LinuxBlockDeviceInfo> Enumerate() => new LinuxDeviceScanner().Scan();

    /// <summary>Finds the device, or the disk and partition, that a device node refers to.</summary>
    /// <param name="path">A device node such as <c>/dev/sdb</c> or <c>/dev/sdb1</c>, or a symbolic link to one (<c>/dev/disk/by-id/…</c>).</param>
    /// <returns>The whole device (for a partition: its disk), or <see langword="null"/> when no block device has that node.</returns>
    public static LinuxBlockDeviceInfo? Find(string path) => Find(Enumerate(), path).Device;

    /// <summary>
    /// Finds where a device or partition is in use for writing: mounted read-write, itself or through a device stacked
    /// on it (device-mapper, LVM, md, followed through <c>/sys/block/*/holders</c>), or active swap. For a whole device
    /// its partitions count too. Reading such a device gives bytes that match no moment of it.
    /// </summary>
    /// <param name="path">A device node such as <c>/dev/sdb</c> or <c>/dev/sdb1</c>, or a symbolic link to one.</param>
    /// <returns>The read-write mount points (<c>[SWAP]</c> for swap), empty when there are none; <see langword="null"/> when no block device has that node.</returns>
    public static IReadOnlyList<string>? FindReadWriteMountPoints(string path)
    {
        (LinuxBlockDeviceInfo? device, LinuxPartitionInfo? partition) = Find(Enumerate(), path);
        return partition?.ReadWriteMountPoints ?? device?.ReadWriteMountPoints;
    }

    internal static (LinuxBlockDeviceInfo? Device, LinuxPartitionInfo? Partition) Find(IReadOnlyList<LinuxBlockDeviceInfo> snapshot, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Find(snapshot, DeviceNumberOf(path), path);
    }

    /// <summary>Finds the device or partition with device number <paramref name="number"/> (<c>major:minor</c>), or named <paramref name="path"/> when the number is unknown.</summary>
    internal static (LinuxBlockDeviceInfo? Device, LinuxPartitionInfo? Partition) Find(IReadOnlyList<LinuxBlockDeviceInfo> snapshot, string? number, string path)
    {
        foreach (var device in snapshot)
        {
            if (Matches(device.DeviceNumber, device.Path))
            {
                return (device, null);
            }

            foreach (var partition in device.Partitions)
            {
                if (Matches(partition.DeviceNumber, partition.Path))
                {
                    return (device, partition);
                }
            }
        }

        return (null, null);

        bool Matches(string? deviceNumber, string devicePath) =>
            number is not null ? deviceNumber == number : string.Equals(devicePath, path, StringComparison.Ordinal);
    }

    /// <summary>Reads <c>major:minor</c> of a device node with statx, or <see langword="null"/> when it is not a block device.</summary>
    internal static string? DeviceNumberOf(string path)
    {
        if (Interop.Libc.StatX(Interop.Libc.AT_FDCWD, path, 0, Interop.Libc.STATX_BASIC_STATS, out var stat) != 0
            || (stat.Mode & Interop.Libc.S_IFMT) != Interop.Libc.S_IFBLK)
        {
            return null;
        }

        return FormattableString.Invariant($"{stat.RdevMajor}:{stat.RdevMinor}");
    }
}

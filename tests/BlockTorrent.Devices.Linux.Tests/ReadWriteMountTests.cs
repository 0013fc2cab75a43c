namespace BlockTorrent.Devices.Linux.Tests;

/// <summary>
/// What writes to a device while it is read (a capture's source): read-write mounts of it, its partitions and the
/// devices stacked on them (LUKS, LVM, md, followed through <c>holders/</c>), and swap, on the recorded machine (the
/// kernel here has no device-mapper driver to stack a real target on a loop device).
/// </summary>
public sealed class ReadWriteMountTests
{
    [Fact]
    public void ReadWriteMountsAreFollowedThroughLuksAndLvmHoldersToThePartitionAndItsDisk()
    {
        using var layout = new RecordedLayout();

        LinuxBlockDeviceInfo nvme = layout.Device("nvme0n1");

        Assert.Equal(["/boot/efi"], nvme.Partitions[0].ReadWriteMountPoints);
        Assert.Equal(["/"], nvme.Partitions[1].ReadWriteMountPoints);
        Assert.Equal(["/", "/boot/efi"], nvme.ReadWriteMountPoints.Order(StringComparer.Ordinal));
        Assert.Equal(["/srv"], layout.Device("sdb").ReadWriteMountPoints);
        Assert.Equal(["[SWAP]"], layout.Device("sdd").ReadWriteMountPoints);
        Assert.Empty(layout.Device("sdc").ReadWriteMountPoints);
    }

    [Fact]
    public void AMountThatIsReadOnlyOrWhoseFileSystemWasRemountedReadOnlyDoesNotCount()
    {
        using var layout = new RecordedLayout();
        File.WriteAllText(layout.MountInfo, string.Join('\n',
            "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/mapper/vg0-root rw,errors=remount-ro",
            "30 22 8:1 / /media/My\\040Stick ro,nosuid,nodev shared:40 - vfat /dev/sda1 ro",
            "31 22 9:127 / /srv rw,relatime shared:41 - xfs /dev/md127 ro,errors=remount-ro",
            string.Empty));

        Assert.Equal(["/media/My Stick"], layout.Device("sda").Partitions[0].MountPoints);
        Assert.Empty(layout.Device("sda").ReadWriteMountPoints);
        Assert.Equal(["/srv"], Assert.Single(layout.Device("sdb").Partitions[0].Holders).MountPoints);
        Assert.Empty(layout.Device("sdb").ReadWriteMountPoints);
        Assert.Equal(["/"], layout.Device("nvme0n1").ReadWriteMountPoints);
    }
}

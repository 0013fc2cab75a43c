using BlockTorrent.Testing;

namespace BlockTorrent.Devices.Linux.Tests;

/// <summary>
/// Roots that are not one block device: btrfs across two disks, a ZFS pool, and a live system's overlay over a
/// squashfs on a loop device whose file lives on a USB stick. Each device the running system lives on holds the root
/// file system, which no force overrides.
/// </summary>
public sealed class RootFilesystemTests : IDisposable
{
    private readonly TempDirectory _root = new();

    public void Dispose() => _root.Dispose();

    [Fact]
    public void EveryDeviceOfABtrfsRootHoldsTheRootFilesystem()
    {
        Disk("sda", "8:0");
        Partition("sda", "sda2", "8:2", 2);
        Disk("sdb", "8:16");
        Partition("sdb", "sdb2", "8:18", 2);
        Disk("sdc", "8:32");
        Write("fs/btrfs/6f1c0e4a-0000-4000-8000-000000000001/devices/sda2", string.Empty);
        Write("fs/btrfs/6f1c0e4a-0000-4000-8000-000000000001/devices/sdb2", string.Empty);
        MountInfo("22 1 0:30 /@ / rw,relatime shared:1 - btrfs /dev/sda2 rw,ssd,space_cache=v2,subvol=/@");

        var devices = Scan();

        Assert.True(devices.Single(d => d.Name == "sda").HoldsRootFilesystem);
        Assert.True(devices.Single(d => d.Name == "sdb").HoldsRootFilesystem);
        Assert.False(devices.Single(d => d.Name == "sdc").HoldsRootFilesystem);
        var refusal = Assert.Single(LinuxDeviceSafety.Evaluate(devices.Single(d => d.Name == "sdb"), null), r => r.Reason == DeviceRefusalReason.HoldsRootFilesystem);
        Assert.False(refusal.CanForce);
    }

    [Fact]
    public void EveryMemberOfTheRootsZfsPoolHoldsTheRootFilesystem()
    {
        Disk("nvme0n1", "259:0");
        Partition("nvme0n1", "nvme0n1p3", "259:3", 3);
        Disk("nvme1n1", "259:4");
        Partition("nvme1n1", "nvme1n1p3", "259:7", 3);
        Disk("sdc", "8:32");
        Udev("259:3", "zfs_member", "rpool");
        Udev("259:7", "zfs_member", "rpool");
        Udev("8:32", "zfs_member", "tank");
        MountInfo(
            "22 1 0:25 / / rw,relatime shared:1 - zfs rpool/ROOT/ubuntu_abc rw,xattr,posixacl",
            "40 22 0:45 / /tank rw,relatime shared:9 - zfs tank rw,xattr");

        var devices = Scan();

        Assert.True(devices.Single(d => d.Name == "nvme0n1").HoldsRootFilesystem);
        Assert.True(devices.Single(d => d.Name == "nvme1n1").HoldsRootFilesystem);
        Assert.False(devices.Single(d => d.Name == "sdc").HoldsRootFilesystem);
    }

    [Fact]
    public void TheStickALiveSystemRunsFromHoldsTheRootFilesystem()
    {
        Disk("sda", "8:0");
        Disk("sdb", "8:16", ("removable", "1"));
        Partition("sdb", "sdb1", "8:17", 1);
        Disk("loop0", "7:0", ("loop/backing_file", "/run/initramfs/live/LiveOS/squashfs.img"));
        MountInfo(
            "22 1 0:40 / / rw,relatime shared:1 - overlay LiveOS_rootfs rw,lowerdir=/run/rootfsbase,upperdir=/run/overlayfs,workdir=/run/ovlwork",
            "23 22 0:24 / /run rw,nosuid,nodev shared:5 - tmpfs tmpfs rw,mode=755",
            "24 23 8:17 / /run/initramfs/live ro,relatime shared:6 - vfat /dev/sdb1 ro",
            "25 23 7:0 / /run/rootfsbase ro,relatime shared:7 - squashfs /dev/loop0 ro");

        var devices = Scan();

        Assert.True(devices.Single(d => d.Name == "sdb").HoldsRootFilesystem);
        Assert.True(devices.Single(d => d.Name == "loop0").HoldsRootFilesystem);
        Assert.False(devices.Single(d => d.Name == "sda").HoldsRootFilesystem);
    }

    private IReadOnlyList<LinuxBlockDeviceInfo> Scan() =>
        new LinuxDeviceScanner(_root.File("sys"), _root.File("mountinfo"), _root.File("swaps"), "/dev", _root.File("udev")).Scan();

    private void Write(string relative, string text)
    {
        string path = Path.Combine(_root.File("sys"), relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private void Disk(string name, string dev, params (string File, string Value)[] attributes)
    {
        Write($"block/{name}/dev", dev + "\n");
        Write($"block/{name}/size", "2097152\n");
        foreach (var (file, value) in attributes)
        {
            Write($"block/{name}/{file}", value + "\n");
        }
    }

    private void Partition(string disk, string name, string dev, int number)
    {
        Write($"block/{disk}/{name}/dev", dev + "\n");
        Write($"block/{disk}/{name}/partition", number + "\n");
        Write($"block/{disk}/{name}/size", "1048576\n");
    }

    private void Udev(string dev, string type, string label)
    {
        Directory.CreateDirectory(_root.File("udev"));
        File.WriteAllText(Path.Combine(_root.File("udev"), "b" + dev), $"S:disk/by-label/{label}\nE:ID_FS_TYPE={type}\nE:ID_FS_LABEL={label}\n");
    }

    private void MountInfo(params string[] lines) => File.WriteAllText(_root.File("mountinfo"), string.Join('\n', lines) + "\n");
}

namespace BlockTorrent.Devices.Linux.Tests;

public sealed class EnumerationTests
{
    [Fact]
    public void EveryDeviceOfTheRecordedMachineIsListedWithItsAttributes()
    {
        using var layout = new RecordedLayout();

        var nvme = layout.Device("nvme0n1");

        Assert.Equal("/dev/nvme0n1", nvme.Path);
        Assert.Equal(1_953_525_168L * 512, nvme.Size);
        Assert.Equal("Samsung SSD 980 PRO 1TB", nvme.Model);
        Assert.Equal("S5GXNF0R123456", nvme.Serial);
        Assert.False(nvme.IsRemovable);
        Assert.Equal(["nvme0n1p1", "nvme0n1p2"], nvme.Partitions.Select(p => p.Name));
        Assert.Equal(1_050_624L * 512, nvme.Partitions[1].Start);
        Assert.Equal(2, nvme.Partitions[1].Number);
    }

    [Fact]
    public void TheRootFilesystemIsTracedThroughLvmAndLuksToItsDisk()
    {
        using var layout = new RecordedLayout();

        var nvme = layout.Device("nvme0n1");

        Assert.True(nvme.HoldsRootFilesystem);
        Assert.True(nvme.Partitions[1].HoldsRootFilesystem);
        Assert.False(nvme.Partitions[0].HoldsRootFilesystem);
        var holder = Assert.Single(nvme.Partitions[1].Holders);
        Assert.Equal(LinuxHolderKind.DeviceMapper, holder.Kind);
        Assert.Equal("luks-5e1f", holder.FriendlyName);
        Assert.Equal(["/"], holder.MountPoints);
        Assert.Single(layout.Scan(), d => d.HoldsRootFilesystem && d.Partitions.Count > 0);
    }

    [Fact]
    public void AnLvmVolumeIsRecognisedByItsDeviceMapperUuid()
    {
        using var layout = new RecordedLayout();

        var luks = layout.Device("dm-0");

        var lvm = Assert.Single(luks.Holders);
        Assert.Equal(LinuxHolderKind.Lvm, lvm.Kind);
        Assert.Equal("vg0-root", lvm.FriendlyName);
    }

    [Fact]
    public void MountPointsAreUnescapedAndSwapCountsAsInUse()
    {
        using var layout = new RecordedLayout();

        Assert.Equal(["/media/My Stick"], layout.Device("sda").Partitions[0].MountPoints);
        Assert.Equal(["[SWAP]"], layout.Device("sdd").Partitions[0].MountPoints);
        Assert.Equal(["/boot/efi"], layout.Device("nvme0n1").Partitions[0].MountPoints);
    }

    [Fact]
    public void RemovableRotationalAndReadOnlyFlagsAndTheVpdSerialAreRead()
    {
        using var layout = new RecordedLayout();

        var stick = layout.Device("sda");
        Assert.True(stick.IsRemovable);
        Assert.Equal("Cruzer Blade", stick.Model);
        Assert.Equal("4C530001230", stick.Serial);
        Assert.True(layout.Device("sdb").IsRotational);
        Assert.True(layout.Device("sde").IsReadOnly);
        Assert.False(layout.Device("sdc").IsReadOnly);
    }

    [Fact]
    public void AnMdMemberIsHeldByItsArrayWithTheArraysMount()
    {
        using var layout = new RecordedLayout();

        var member = layout.Device("sdb").Partitions[0];

        var array = Assert.Single(member.Holders);
        Assert.Equal(LinuxHolderKind.Md, array.Kind);
        Assert.Equal(["/srv"], array.MountPoints);
        Assert.Contains("md RAID", array.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("36 25 0:32 / /mnt/a\\040b rw - ext4 /dev/sdb1 rw", "0:32", "/dev/sdb1", "/mnt/a b")]
    [InlineData("36 25 8:1 / /home rw shared:1 master:2 - btrfs /dev/sda1 rw,ssd", "8:1", "/dev/sda1", "/home")]
    [InlineData("36 25 8:1 / /x\\134y rw - ext4 /dev/sda1 rw", "8:1", "/dev/sda1", "/x\\y")]
    public void MountInfoLinesAreParsedWithOptionalFields(string line, string deviceNumber, string source, string mountPoint)
    {
        var parsed = LinuxDeviceScanner.ParseMountInfoLine(line);

        Assert.Equal((deviceNumber, source, mountPoint), parsed);
    }

    [Fact]
    public void AMalformedMountInfoLineIsIgnored() => Assert.Null(LinuxDeviceScanner.ParseMountInfoLine("36 25 8:1 / /home rw"));
}

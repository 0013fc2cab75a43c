namespace BlockTorrent.Devices.Linux.Tests;

public sealed class SafetyDecisionTests
{
    [Fact]
    public void TheRootDiskIsRefusedAndForceCannotOverrideIt()
    {
        using var layout = new RecordedLayout();
        var nvme = layout.Device("nvme0n1");

        var refusals = LinuxDeviceSafety.Evaluate(nvme, imageLength: 1 << 30);

        Assert.Equal(DeviceRefusalReason.HoldsRootFilesystem, refusals[0].Reason);
        Assert.False(refusals[0].CanForce);
        var refusal = Assert.Throws<DeviceSafetyException>(() => LinuxDeviceSafety.ThrowIfRefused(nvme.Path, refusals, force: true));
        Assert.Equal(DeviceRefusalReason.HoldsRootFilesystem, refusal.Reason);
        Assert.Equal("/dev/nvme0n1", refusal.DeviceName);
        Assert.Contains("root filesystem", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheRootDiskRefusalAlsoNamesItsMountedAndHeldPartitions()
    {
        using var layout = new RecordedLayout();

        var refusals = LinuxDeviceSafety.Evaluate(layout.Device("nvme0n1"), imageLength: null);

        Assert.Contains(refusals, r => r.Reason == DeviceRefusalReason.Mounted && r.Detail.Contains("/boot/efi", StringComparison.Ordinal));
        Assert.Contains(refusals, r => r.Reason == DeviceRefusalReason.HeldByOtherDevice && r.Detail.Contains("luks-5e1f", StringComparison.Ordinal));
    }

    [Fact]
    public void ThePartitionHoldingRootIsRefusedOnItsOwnToo()
    {
        using var layout = new RecordedLayout();
        var partition = layout.Device("nvme0n1").Partitions[1];

        var refusals = LinuxDeviceSafety.Evaluate(partition, imageLength: null);

        Assert.Contains(refusals, r => r.Reason == DeviceRefusalReason.HoldsRootFilesystem && !r.CanForce);
    }

    [Fact]
    public void AMountedUsbStickIsRefusedUnlessForced()
    {
        using var layout = new RecordedLayout();
        var stick = layout.Device("sda");

        var refusals = LinuxDeviceSafety.Evaluate(stick, imageLength: 1 << 30);

        var mounted = Assert.Single(refusals);
        Assert.Equal(DeviceRefusalReason.Mounted, mounted.Reason);
        Assert.Equal("/dev/sda1 is in use: mounted on /media/My Stick", mounted.Detail);
        var refusal = Assert.Throws<DeviceSafetyException>(() => LinuxDeviceSafety.ThrowIfRefused(stick.Path, refusals, force: false));
        Assert.Contains("force", refusal.Message, StringComparison.Ordinal);
        LinuxDeviceSafety.ThrowIfRefused(stick.Path, refusals, force: true);
    }

    [Fact]
    public void AnMdMemberIsRefusedAsHeldNamingTheArray()
    {
        using var layout = new RecordedLayout();

        var refusal = Assert.Single(LinuxDeviceSafety.Evaluate(layout.Device("sdb"), imageLength: null));

        Assert.Equal(DeviceRefusalReason.HeldByOtherDevice, refusal.Reason);
        Assert.Contains("md127", refusal.Detail, StringComparison.Ordinal);
        Assert.Contains("/srv", refusal.Detail, StringComparison.Ordinal);
        Assert.True(refusal.CanForce);
    }

    [Fact]
    public void AnActiveSwapPartitionMakesItsDiskInUse()
    {
        using var layout = new RecordedLayout();

        var refusal = Assert.Single(LinuxDeviceSafety.Evaluate(layout.Device("sdd"), imageLength: null));

        Assert.Equal(DeviceRefusalReason.Mounted, refusal.Reason);
        Assert.Contains("active swap", refusal.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void ABlankDiskLargeEnoughIsAccepted()
    {
        using var layout = new RecordedLayout();

        Assert.Empty(LinuxDeviceSafety.Evaluate(layout.Device("sdc"), imageLength: 1L << 30));
    }

    [Fact]
    public void ADiskSmallerThanTheImageIsRefusedAndForceCannotOverrideIt()
    {
        using var layout = new RecordedLayout();
        var blank = layout.Device("sdc");

        var refusals = LinuxDeviceSafety.Evaluate(blank, imageLength: (1L << 30) + 1);

        Assert.Equal(DeviceRefusalReason.TooSmall, Assert.Single(refusals).Reason);
        Assert.Throws<DeviceSafetyException>(() => LinuxDeviceSafety.ThrowIfRefused(blank.Path, refusals, force: true));
    }

    [Fact]
    public void AReadOnlyDiskIsRefusedAndForceCannotOverrideIt()
    {
        using var layout = new RecordedLayout();
        var readOnly = layout.Device("sde");

        var refusals = LinuxDeviceSafety.Evaluate(readOnly, imageLength: null);

        Assert.Equal(DeviceRefusalReason.ReadOnly, Assert.Single(refusals).Reason);
        Assert.Throws<DeviceSafetyException>(() => LinuxDeviceSafety.ThrowIfRefused(readOnly.Path, refusals, force: true));
    }

    [Fact]
    public void EveryStandingRefusalIsNamedInTheMessage()
    {
        var device = new LinuxBlockDeviceInfo
        {
            Name = "sdx",
            Path = "/dev/sdx",
            Size = 1000,
            IsReadOnly = true,
            Partitions = [new LinuxPartitionInfo { Name = "sdx1", Path = "/dev/sdx1", MountPoints = ["/data"] }],
        };

        var refusal = Assert.Throws<DeviceSafetyException>(() => LinuxDeviceSafety.ThrowIfRefused(device.Path, LinuxDeviceSafety.Evaluate(device, 2000), force: false));

        Assert.Equal(DeviceRefusalReason.ReadOnly, refusal.Reason);
        Assert.Contains("read-only", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("needs 2000", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("/dev/sdx1 is in use: mounted on /data", refusal.Message, StringComparison.Ordinal);
    }
}

using BlockTorrent.Testing;

namespace BlockTorrent.Devices.Linux.Tests;

public sealed class LoopSafetyTests
{
    [Fact]
    public async Task AReadOnlyLoopDeviceIsRefusedForWriting()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, 1 << 20, readOnly: true);

        var refusal = Assert.Throws<DeviceSafetyException>(() => LinuxBlockDevice.Open(loop.Path));

        Assert.Equal(DeviceRefusalReason.ReadOnly, refusal.Reason);
        Assert.Equal(loop.Path, refusal.DeviceName);
        Assert.Contains(loop.Path, refusal.Message, StringComparison.Ordinal);
        Assert.Contains("read-only", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForceDoesNotOverrideAReadOnlyDevice()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, 1 << 20, readOnly: true);

        var refusal = Assert.Throws<DeviceSafetyException>(() => LinuxBlockDevice.Open(loop.Path, new LinuxBlockDeviceOptions { Force = true }));

        Assert.Equal(DeviceRefusalReason.ReadOnly, refusal.Reason);
    }

    [Fact]
    public async Task AMountedLoopDeviceIsRefusedNamingTheMountPoint()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, 8 << 20);
        string mountPoint = temp.File("mnt");
        await loop.MountExt4Async(mountPoint);

        var refusal = Assert.Throws<DeviceSafetyException>(() => LinuxBlockDevice.Open(loop.Path));

        Assert.Equal(DeviceRefusalReason.Mounted, refusal.Reason);
        Assert.Contains(mountPoint, refusal.Message, StringComparison.Ordinal);
        Assert.Contains(loop.Path, refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ForceOverridesTheMountedRefusal()
    {
        // Force skips the mounted check; the exclusive claim is dropped on its own. A dry run keeps the mounted file
        // system safe while showing it.
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, 8 << 20);
        await loop.MountExt4Async(temp.File("mnt"));

        var refusal = Assert.Throws<DeviceSafetyException>(() => LinuxBlockDevice.Open(loop.Path, new LinuxBlockDeviceOptions { DryRun = true }));
        Assert.Equal(DeviceRefusalReason.Mounted, refusal.Reason);

        await using var forced = LinuxBlockDevice.Open(loop.Path, new LinuxBlockDeviceOptions { Force = true, Exclusive = false, DryRun = true });
        Assert.Equal(8 << 20, forced.Length);
    }

    [Fact]
    public async Task ATargetSmallerThanTheImageIsRefusedEvenWithForce()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, 1 << 20);

        var refusal = Assert.Throws<DeviceSafetyException>(() => LinuxBlockDevice.Open(loop.Path, new LinuxBlockDeviceOptions { MinimumLength = (1 << 20) + 1, Force = true }));

        Assert.Equal(DeviceRefusalReason.TooSmall, refusal.Reason);
        Assert.Contains("1048576", refusal.Message, StringComparison.Ordinal);
        Assert.Contains("1048577", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASecondExclusiveOpenIsRefusedAsBusy()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, 1 << 20);
        await using var first = LinuxBlockDevice.Open(loop.Path);

        var refusal = Assert.Throws<DeviceSafetyException>(() => LinuxBlockDevice.Open(loop.Path));

        Assert.Equal(DeviceRefusalReason.Busy, refusal.Reason);
        Assert.Contains("O_EXCL", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADryRunShowsWhatWouldBeWrittenAndWritesNothing()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, 1 << 20);
        DryRunReport report;
        var opened = LinuxBlockDevice.Open(loop.Path, new LinuxBlockDeviceOptions { DryRun = true });
        await using (var device = new DryRunBlockDevice(opened))
        {
            Assert.True(opened.IsReadOnly);
            Assert.False(device.IsReadOnly);
            await device.WriteAsync(0, ZeroAndDiscardTests.Filled(4096, 1), TestContext.Current.CancellationToken);
            await device.WriteAsync(4096, ZeroAndDiscardTests.Filled(100, 1), TestContext.Current.CancellationToken);
            await device.ZeroRangeAsync(65536, 65536, TestContext.Current.CancellationToken);
            report = device.Report;
        }

        Assert.Equal(
            [new DryRunExtent(0, 4196, DryRunOperation.Write), new DryRunExtent(65536, 65536, DryRunOperation.ZeroRange)],
            report.Extents);
        Assert.Equal(4196, report.BytesWritten);
        Assert.Contains(loop.Path, report.ToString(), StringComparison.Ordinal);
        Assert.All(loop.ReadBackingFile(), b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task TheEnumerationListsAnAttachedLoopDeviceWithItsBackingFileAndMount()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, 8 << 20);
        string mountPoint = temp.File("mnt");
        await loop.MountExt4Async(mountPoint);

        var info = LinuxBlockDevices.Find(loop.Path);

        Assert.NotNull(info);
        Assert.Equal(loop.Name, info.Name);
        Assert.Equal(8 << 20, info.Size);
        Assert.Equal(loop.BackingFile, info.BackingFile);
        Assert.Equal([mountPoint], info.MountPoints);
        Assert.False(info.HoldsRootFilesystem);
    }

    [Fact]
    public void TheDiskHoldingTheRunningRootFilesystemIsFoundAndRefused()
    {
        Requires.Linux();
        var devices = LinuxBlockDevices.Enumerate();
        var root = devices.SingleOrDefault(d => d.HoldsRootFilesystem);
        Requires.That(root is not null, "the root filesystem is not on a block device here (a container overlay, NFS or tmpfs root).");

        var refusals = LinuxDeviceSafety.Evaluate(root!, imageLength: null);

        Assert.Contains(refusals, r => r.Reason == DeviceRefusalReason.HoldsRootFilesystem && !r.CanForce);
        var refusal = Assert.Throws<DeviceSafetyException>(() => LinuxDeviceSafety.ThrowIfRefused(root!.Path, refusals, force: true));
        Assert.Equal(DeviceRefusalReason.HoldsRootFilesystem, refusal.Reason);
    }
}

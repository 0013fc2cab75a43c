using System.Runtime.Versioning;

namespace BlockTorrent.Devices.Windows.Tests;

/// <summary>
/// Tests against real Windows disks. On any other platform they report as skipped with the reason; on Windows they
/// need an elevated process and attach a throw-away VHDX for every test that writes.
/// </summary>
[SupportedOSPlatform("windows")]
public sealed class WindowsOnlyTests
{
    private const int Sector = 512;

    [Fact]
    public async Task EnumerationFindsTheDiskOfTheRunningWindows()
    {
        AttachedVhd.RequireElevatedWindows();

        IReadOnlyList<WindowsDisk> disks = await WindowsDisks.GetDisksAsync(TestContext.Current.CancellationToken);

        Assert.NotEmpty(disks);
        Assert.All(disks, d => Assert.True(d.Length > 0, $"{d} has no length."));
        bool runsFromRam = Environment.GetFolderPath(Environment.SpecialFolder.Windows).StartsWith("X:", StringComparison.OrdinalIgnoreCase);
        Assert.True(runsFromRam || disks.Any(d => d.HoldsBootVolume), "No disk holds the boot volume of the running Windows.");
    }

    [Fact]
    public async Task OpeningTheDiskOfTheRunningWindowsForWritingIsRefused()
    {
        AttachedVhd.RequireElevatedWindows();
        WindowsDisk? boot = (await WindowsDisks.GetDisksAsync(TestContext.Current.CancellationToken)).FirstOrDefault(d => d.HoldsBootVolume || d.HoldsSystemVolume);
        if (boot is null)
        {
            Assert.Skip("The running Windows is not on a physical disk (WinPE from RAM).");
        }

        var refusal = await Assert.ThrowsAsync<DeviceSafetyException>(() => WindowsBlockDevice.OpenAsync(boot.Path, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal(DeviceRefusalReason.HoldsRootFilesystem, refusal.Reason);
    }

    [Fact]
    public async Task AnAttachedVhdIsWrittenAndReadBackThroughAlignedAndUnalignedRequests()
    {
        AttachedVhd.RequireElevatedWindows();
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        await using AttachedVhd vhd = await AttachedVhd.CreateAsync(64, withVolume: false, cancellationToken);
        byte[] model = new byte[8 << 20];
        new Random(6).NextBytes(model);

        await using (WindowsBlockDevice device = await WindowsBlockDevice.OpenAsync(vhd.Disk.Path, new WindowsBlockDeviceOptions { MinimumLength = model.Length }, cancellationToken: cancellationToken))
        {
            Memory<byte> aligned = AlignedMemory(4 << 20, device.MemoryAlignment);
            model.AsSpan(0, 4 << 20).CopyTo(aligned.Span);
            await device.WriteAsync(0, aligned, cancellationToken);

            // Unaligned: inside one sector, across sectors, and from an unaligned array.
            await device.WriteAsync(4 << 20, model.AsMemory(4 << 20, 4 << 20), cancellationToken);
            byte[] patch = [1, 2, 3, 4, 5, 6, 7];
            patch.CopyTo(model, 1000);
            await device.WriteAsync(1000, patch, cancellationToken);
            model.AsSpan(Sector - 3, 10).Fill(0xEE);
            await device.WriteAsync(Sector - 3, model.AsMemory(Sector - 3, 10), cancellationToken);

            model.AsSpan((5 << 20) + 100, 70_000).Clear();
            await device.ZeroRangeAsync((5 << 20) + 100, 70_000, cancellationToken);
            await device.FlushAsync(cancellationToken);

            byte[] back = new byte[model.Length];
            Assert.Equal(back.Length, await device.ReadAsync(0, back, cancellationToken));
            Assert.True(back.AsSpan().SequenceEqual(model), "The disk does not hold what was written.");

            byte[] unaligned = new byte[333];
            Assert.Equal(333, await device.ReadAsync(777, unaligned, cancellationToken));
            Assert.True(unaligned.AsSpan().SequenceEqual(model.AsSpan(777, 333)));
        }
    }

    [Fact]
    public async Task AWriteOutsideTheDiskIsRefusedAndTouchesNothing()
    {
        AttachedVhd.RequireElevatedWindows();
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        await using AttachedVhd vhd = await AttachedVhd.CreateAsync(16, withVolume: false, cancellationToken);
        await using WindowsBlockDevice device = await WindowsBlockDevice.OpenAsync(vhd.Disk.Path, cancellationToken: cancellationToken);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await device.WriteAsync(device.Length - Sector, new byte[2 * Sector], cancellationToken));
    }

    [Fact]
    public async Task OpeningADiskWithAMountedVolumeDismountsItAndLetsItsSectorsBeWritten()
    {
        AttachedVhd.RequireElevatedWindows();
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        await using AttachedVhd vhd = await AttachedVhd.CreateAsync(64, withVolume: true, cancellationToken);
        WindowsVolume volume = Assert.Single(vhd.Disk.Volumes);
        WindowsDiskPlan plan = await WindowsBlockDevice.PlanAsync(vhd.Disk.Path, cancellationToken: cancellationToken);
        Assert.Equal([volume.GuidPath], plan.VolumesToDismount.Select(v => v.GuidPath));

        long volumeStart = volume.Extents.Single(e => e.DiskNumber == vhd.Disk.Number).Offset;
        await using (WindowsBlockDevice device = await WindowsBlockDevice.OpenAsync(vhd.Disk.Path, cancellationToken: cancellationToken))
        {
            // Windows refuses raw writes into a mounted volume: this succeeds only because the volume was dismounted.
            await device.ZeroRangeAsync(volumeStart, 1 << 20, cancellationToken);
            byte[] back = new byte[1 << 20];
            await device.ReadAsync(volumeStart, back, cancellationToken);
            Assert.True(back.AsSpan().IndexOfAnyExcept((byte)0) < 0);
        }
    }

    [Fact]
    public async Task AVolumeWithAnOpenFileRefusesTheDiskNamingTheVolume()
    {
        AttachedVhd.RequireElevatedWindows();
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        await using AttachedVhd vhd = await AttachedVhd.CreateAsync(64, withVolume: true, cancellationToken);
        WindowsVolume volume = Assert.Single(vhd.Disk.Volumes);
        string mountPoint = Assert.Single(volume.MountPoints);

        using (var held = new FileStream(Path.Combine(mountPoint, "held.bin"), FileMode.Create, FileAccess.ReadWrite, FileShare.None))
        {
            held.WriteByte(1);
            held.Flush();
            var options = new WindowsBlockDeviceOptions { VolumeLockAttempts = 1 };

            var refusal = await Assert.ThrowsAsync<DeviceSafetyException>(() => WindowsBlockDevice.OpenAsync(vhd.Disk.Path, options, cancellationToken: cancellationToken));

            Assert.Equal(DeviceRefusalReason.Busy, refusal.Reason);
            Assert.Contains(mountPoint, refusal.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task ADiskSmallerThanTheImageIsRefused()
    {
        AttachedVhd.RequireElevatedWindows();
        CancellationToken cancellationToken = TestContext.Current.CancellationToken;
        await using AttachedVhd vhd = await AttachedVhd.CreateAsync(16, withVolume: false, cancellationToken);

        var refusal = await Assert.ThrowsAsync<DeviceSafetyException>(() =>
            WindowsBlockDevice.OpenAsync(vhd.Disk.Path, new WindowsBlockDeviceOptions { MinimumLength = 1L << 30 }, cancellationToken: cancellationToken));

        Assert.Equal(DeviceRefusalReason.TooSmall, refusal.Reason);
    }

    // A pinned array never moves, so a slice of it that starts on the alignment stays aligned.
    private static unsafe Memory<byte> AlignedMemory(int length, int alignment)
    {
        byte[] array = GC.AllocateArray<byte>(length + alignment, pinned: true);
        fixed (byte* start = array)
        {
            nuint misalignment = (nuint)start % (nuint)alignment;
            int skip = misalignment == 0 ? 0 : alignment - (int)misalignment;
            return array.AsMemory(skip, length);
        }
    }
}

using BlockTorrent.Testing;

namespace BlockTorrent.Devices.Linux.Tests;

public sealed class GeometryTests
{
    [Fact]
    public async Task ALoopDeviceReportsItsSizeAnd512ByteSectors()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, 3 << 20);
        await using var device = LinuxBlockDevice.Open(loop.Path);

        Assert.Equal(3 << 20, device.Length);
        Assert.Equal(512, device.LogicalSectorSize);
        Assert.True(device.PhysicalSectorSize >= 512);
        Assert.True(device.IsBlockDevice);
        Assert.True(device.IsDirectIO);
        Assert.False(device.IsReadOnly);
    }

    [Fact]
    public async Task ALoopDeviceWith4096ByteSectorsReportsThem()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, 4 << 20, sectorSize: 4096);
        await using var device = LinuxBlockDevice.Open(loop.Path);

        Assert.Equal(4 << 20, device.Length);
        Assert.Equal(4096, device.LogicalSectorSize);
        Assert.Equal(4096, device.PhysicalSectorSize);
        Assert.True(device.MemoryAlignment is > 0 and <= 4096);
    }

    [Fact]
    public async Task AReadOnlyOpenOfAReadOnlyLoopDeviceReportsItReadOnly()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, 1 << 20, readOnly: true);
        await using var device = LinuxBlockDevice.Open(loop.Path, new LinuxBlockDeviceOptions { ReadOnly = true });

        Assert.True(device.IsReadOnly);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await device.WriteAsync(0, new byte[512], TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task AnImageFileIsOpenedThroughThePageCacheWithItsLength()
    {
        using var temp = new TempDirectory();
        await using var device = LinuxBlockDevice.CreateImageFile(temp.File("image.raw"), 5_000_001);

        Assert.False(device.IsBlockDevice);
        Assert.False(device.IsDirectIO);
        Assert.Equal(5_000_001, device.Length);
        Assert.Equal(1, device.MemoryAlignment);
    }
}

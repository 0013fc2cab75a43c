using BlockTorrent.Devices;

namespace BlockTorrent.Tests.Devices;

public sealed class MemoryBlockDeviceTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AWriteOutsideTheDeviceThrowsAndChangesNothing()
    {
        var device = new MemoryBlockDevice(100, new MemoryBlockDeviceOptions { Name = "disk0" });

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await device.WriteAsync(95, new byte[] { 1, 2, 3, 4, 5, 6 }, Token));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await device.WriteGatherAsync(90, [new byte[] { 7 }, new byte[10]], Token));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await device.ZeroRangeAsync(50, 51, Token));

        Assert.Contains("disk0", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, device.WriteCount);
        Assert.True(device.Contents.Span.IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public async Task AReadIsClampedAtTheEndAndRefusedPastIt()
    {
        var device = new MemoryBlockDevice(new byte[] { 1, 2, 3, 4 });
        byte[] buffer = new byte[10];

        int read = await device.ReadAsync(2, buffer, Token);

        Assert.Equal(2, read);
        Assert.Equal(new byte[] { 3, 4 }, buffer[..2]);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await device.ReadAsync(5, buffer, Token));
    }

    [Fact]
    public async Task ADiscardThatDoesNotZeroLeavesTheFillPattern()
    {
        var device = new MemoryBlockDevice(10, new MemoryBlockDeviceOptions { CanDiscard = true, DiscardFill = 0x5A });

        await device.DiscardAsync(2, 3, Token);

        Assert.Equal(new byte[] { 0, 0, 0x5A, 0x5A, 0x5A, 0, 0, 0, 0, 0 }, device.Contents.ToArray());
    }

    [Fact]
    public async Task MissingPowersThrowNotSupported()
    {
        var device = new MemoryBlockDevice(10, new MemoryBlockDeviceOptions { CanZeroRange = false });

        await Assert.ThrowsAsync<NotSupportedException>(async () => await device.DiscardAsync(0, 1, Token));
        await Assert.ThrowsAsync<NotSupportedException>(async () => await device.ZeroRangeAsync(0, 1, Token));
    }

    [Fact]
    public async Task AReadOnlyDeviceRefusesWritesAndHasNoPowers()
    {
        var device = new MemoryBlockDevice(10, new MemoryBlockDeviceOptions { ReadOnly = true, CanDiscard = true });

        await Assert.ThrowsAsync<NotSupportedException>(async () => await device.WriteAsync(0, new byte[1], Token));
        Assert.False(device.CanDiscard);
        Assert.False(device.CanZeroRange);
    }

    [Fact]
    public void TheReportedGeometryIsTheConfiguredOne()
    {
        var device = new MemoryBlockDevice(8192, new MemoryBlockDeviceOptions { LogicalSectorSize = 4096, PhysicalSectorSize = 4096, MemoryAlignment = 4096 });

        Assert.Equal((4096, 4096, 4096), (device.LogicalSectorSize, device.PhysicalSectorSize, device.MemoryAlignment));
    }

    [Fact]
    public void AnInvalidSectorSizeIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryBlockDevice(10, new MemoryBlockDeviceOptions { LogicalSectorSize = 1000 }));
    }
}

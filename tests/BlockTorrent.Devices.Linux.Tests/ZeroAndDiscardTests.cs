using BlockTorrent.Testing;

namespace BlockTorrent.Devices.Linux.Tests;

public sealed class ZeroAndDiscardTests
{
    private const int DeviceLength = 2 << 20;

    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public async Task ZeroRangeZeroesExactlyTheRangeIncludingPartialSectors(int sectorSize)
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, DeviceLength, sectorSize);
        var expected = Filled(DeviceLength, 0xA5);
        await using (var device = LinuxBlockDevice.Open(loop.Path))
        {
            Assert.True(device.CanZeroRange);
            await device.WriteAsync(0, expected, TestContext.Current.CancellationToken);

            // Starts and ends inside sectors, and spans many whole ones.
            const long Start = 1000;
            const long Length = (1 << 20) + 12345;
            await device.ZeroRangeAsync(Start, Length, TestContext.Current.CancellationToken);
            expected.AsSpan((int)Start, (int)Length).Clear();

            // A range inside one sector.
            await device.ZeroRangeAsync(1_500_003, 7, TestContext.Current.CancellationToken);
            expected.AsSpan(1_500_003, 7).Clear();
        }

        Assert.True(loop.ReadBackingFile().AsSpan().SequenceEqual(expected));
    }

    [Fact]
    public async Task ADiscardedRangeOfALoopDeviceIsReleasedFromItsBackingFile()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, DeviceLength);
        await using (var device = LinuxBlockDevice.Open(loop.Path))
        {
            Assert.True(device.CanDiscard, "loop devices pass discards to their backing file as hole punches");
            await device.WriteAsync(0, Filled(DeviceLength, 0x5A), TestContext.Current.CancellationToken);
            await device.FlushAsync(TestContext.Current.CancellationToken);
            long before = AllocatedBytes(loop.BackingFile);

            await device.DiscardAsync(4096, DeviceLength - 8192, TestContext.Current.CancellationToken);
            await device.FlushAsync(TestContext.Current.CancellationToken);

            Assert.True(AllocatedBytes(loop.BackingFile) < before - (DeviceLength / 2), "the discard did not reach the backing file");
        }
    }

    [Fact]
    public async Task ZeroRangeKeepsAnImageFileSparse()
    {
        using var temp = new TempDirectory();
        string path = temp.File("image.raw");
        const int Length = 8 << 20;
        await using var device = LinuxBlockDevice.CreateImageFile(path, Length);
        Assert.True(device.AllocatedBytes() < 64 << 10, "a new image file should hold no data blocks");

        await device.WriteAsync(0, Filled(Length, 1), TestContext.Current.CancellationToken);
        await device.FlushAsync(TestContext.Current.CancellationToken);
        long full = device.AllocatedBytes();

        await device.ZeroRangeAsync(1 << 20, 6 << 20, TestContext.Current.CancellationToken);
        await device.FlushAsync(TestContext.Current.CancellationToken);

        Assert.True(device.AllocatedBytes() <= full - (6 << 20) + (64 << 10), $"zeroing did not free blocks: {device.AllocatedBytes()} of {full} still allocated");
        var back = new byte[Length];
        await device.ReadAsync(0, back, TestContext.Current.CancellationToken);
        Assert.All(back.AsSpan(1 << 20, 6 << 20).ToArray(), b => Assert.Equal(0, b));
        Assert.All(back.AsSpan(7 << 20).ToArray(), b => Assert.Equal(1, b));
    }

    [Fact]
    public async Task DiscardOnAnImageFilePunchesAHoleThatReadsAsZeros()
    {
        using var temp = new TempDirectory();
        await using var device = LinuxBlockDevice.CreateImageFile(temp.File("image.raw"), 1 << 20);
        Assert.True(device.CanDiscard);
        Assert.True(device.DiscardZeroesData);
        await device.WriteAsync(0, Filled(1 << 20, 9), TestContext.Current.CancellationToken);

        await device.DiscardAsync(100, 200_000, TestContext.Current.CancellationToken);

        var back = new byte[1 << 20];
        await device.ReadAsync(0, back, TestContext.Current.CancellationToken);
        Assert.All(back.AsSpan(100, 200_000).ToArray(), b => Assert.Equal(0, b));
        Assert.Equal(9, back[99]);
        Assert.Equal(9, back[200_100]);
    }

    internal static byte[] Filled(int length, byte value)
    {
        var bytes = new byte[length];
        bytes.AsSpan().Fill(value);
        return bytes;
    }

    private static long AllocatedBytes(string path)
    {
        var result = ExternalProgram.RunAsync("stat", ["-c", "%b %B", path], TimeSpan.FromSeconds(30)).GetAwaiter().GetResult().EnsureSuccess("stat");
        string[] parts = result.StandardOutput.Trim().Split(' ');
        return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) * long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}

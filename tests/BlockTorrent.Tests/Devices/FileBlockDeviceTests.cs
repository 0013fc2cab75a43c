using BlockTorrent.Devices;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Devices;

public sealed class FileBlockDeviceTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ACreatedFileHasTheLengthAndReadsAsZeros()
    {
        using var dir = new TempDirectory();
        await using var device = FileBlockDevice.Create(dir.File("a.img"), 1 << 20);
        byte[] buffer = new byte[1 << 20];
        Array.Fill(buffer, (byte)1);

        int read = await device.ReadAsync(0, buffer, Token);

        Assert.Equal(1 << 20, read);
        Assert.Equal(1 << 20, new FileInfo(dir.File("a.img")).Length);
        Assert.True(device.IsKnownZeroed);
        Assert.True(buffer.AsSpan().IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public async Task WritingClearsIsKnownZeroed()
    {
        using var dir = new TempDirectory();
        await using var device = FileBlockDevice.Create(dir.File("a.img"), 4096);

        await device.WriteAsync(0, new byte[] { 1 }, Token);

        Assert.False(device.IsKnownZeroed);
    }

    [Fact]
    public async Task AGatheredWriteLandsBackToBack()
    {
        using var dir = new TempDirectory();
        await using (var device = FileBlockDevice.Create(dir.File("a.img"), 100))
        {
            await device.WriteGatherAsync(10, [new byte[] { 1, 2 }, new byte[] { 3 }, new byte[] { 4, 5, 6 }], Token);
        }

        byte[] contents = await File.ReadAllBytesAsync(dir.File("a.img"), Token);

        Assert.Equal(new byte[] { 0, 1, 2, 3, 4, 5, 6, 0 }, contents[9..17]);
    }

    [Fact]
    public async Task AWriteReachingPastTheEndThrowsAndChangesNothing()
    {
        using var dir = new TempDirectory();
        await using (var device = FileBlockDevice.Create(dir.File("a.img"), 100))
        {
            var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await device.WriteAsync(99, new byte[] { 1, 2 }, Token));
            Assert.Contains("a.img", error.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await device.WriteGatherAsync(90, [new byte[5], new byte[6]], Token));
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await device.WriteAsync(-1, new byte[1], Token));
        }

        Assert.Equal(100, new FileInfo(dir.File("a.img")).Length);
        Assert.True((await File.ReadAllBytesAsync(dir.File("a.img"), Token)).AsSpan().IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public async Task AReadAtTheEndReturnsOnlyWhatIsThere()
    {
        using var dir = new TempDirectory();
        await using var device = FileBlockDevice.Create(dir.File("a.img"), 100);

        int read = await device.ReadAsync(90, new byte[50], Token);

        Assert.Equal(10, read);
    }

    [Fact]
    public async Task ZeroRangeMakesWrittenDataReadAsZeros()
    {
        using var dir = new TempDirectory();
        await using var device = FileBlockDevice.Create(dir.File("a.img"), 1 << 20);
        byte[] data = new byte[1 << 20];
        Array.Fill(data, (byte)0xAB);
        await device.WriteAsync(0, data, Token);

        await device.ZeroRangeAsync(4096, 65536, Token);
        await device.ReadAsync(0, data, Token);

        Assert.True(data.AsSpan(4096, 65536).IndexOfAnyExcept((byte)0) < 0);
        Assert.Equal(0xAB, data[4095]);
        Assert.Equal(0xAB, data[4096 + 65536]);
    }

    [Fact]
    public async Task ZeroRangeOnLinuxPunchesAHoleInsteadOfWritingZeros()
    {
        Requires.Linux();
        using var dir = new TempDirectory();
        string path = dir.File("a.img");
        await using var device = FileBlockDevice.Create(path, 8 << 20);
        byte[] data = new byte[8 << 20];
        Array.Fill(data, (byte)0xAB);
        await device.WriteAsync(0, data, Token);
        await device.FlushAsync(Token);
        long before = await AllocatedBytesAsync(path);

        await device.ZeroRangeAsync(0, 8 << 20, Token);
        long after = await AllocatedBytesAsync(path);

        Assert.True(before >= 8 << 20, $"{before} bytes allocated before");
        Assert.True(after < 1 << 20, $"{after} bytes still allocated after punching the hole");
    }

    [Fact]
    public async Task AReadOnlyDeviceRefusesWrites()
    {
        using var dir = new TempDirectory();
        await File.WriteAllBytesAsync(dir.File("a.img"), new byte[4096], Token);
        await using var device = FileBlockDevice.Open(dir.File("a.img"), new FileBlockDeviceOptions { ReadOnly = true });

        Assert.True(device.IsReadOnly);
        Assert.False(device.CanZeroRange);
        await Assert.ThrowsAsync<NotSupportedException>(async () => await device.WriteAsync(0, new byte[1], Token));
        Assert.Equal(4096, device.Length);
    }

    [Fact]
    public void OpeningAMissingFileNamesIt()
    {
        using var dir = new TempDirectory();

        var error = Assert.Throws<FileNotFoundException>(() => FileBlockDevice.Open(dir.File("missing.img")));

        Assert.Contains("missing.img", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreatingOverAnExistingFileIsRefusedUnlessAsked()
    {
        using var dir = new TempDirectory();
        await File.WriteAllBytesAsync(dir.File("a.img"), [1, 2, 3], Token);

        Assert.Throws<IOException>(() => FileBlockDevice.Create(dir.File("a.img"), 10));
        await using var device = FileBlockDevice.Create(dir.File("a.img"), 10, new FileBlockDeviceOptions { Overwrite = true });
        byte[] contents = new byte[10];
        await device.ReadAsync(0, contents, Token);

        Assert.True(contents.AsSpan().IndexOfAnyExcept((byte)0) < 0);
    }

    private static async Task<long> AllocatedBytesAsync(string path)
    {
        var result = (await ExternalProgram.RunAsync("stat", ["-c", "%b %B", path], TimeSpan.FromSeconds(10))).EnsureSuccess("stat");
        string[] parts = result.StandardOutput.Trim().Split(' ');
        return long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) * long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}

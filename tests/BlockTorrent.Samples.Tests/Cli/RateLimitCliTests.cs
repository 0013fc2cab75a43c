using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

public sealed class RateLimitCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("--max-upload-rate", "0", "more than 0 bytes per second")]
    [InlineData("--max-download-rate", "10 parsecs", "unknown unit")]
    public async Task ARateThatIsNotAPositiveSizeIsAUsageError(string option, string value, string why)
    {
        string image = SampleImage.Write(_dir.File("disk.img"), 1 << 20);
        CliResult created = await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB");
        Assert.True(created.ExitCode == 0, created.ToString());

        CliResult deploy = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--listen", "127.0.0.1:0", option, value);

        Assert.Equal(2, deploy.ExitCode);
        Assert.Contains(why, deploy.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task ADeployWithBothCapsWritesTheImage()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), 1 << 20);
        Assert.Equal(0, (await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB")).ExitCode);

        CliResult deployed;
        await using (LibrarySeed seed = LibrarySeed.Start(_dir.File("disk.torrent"), image))
        {
            deployed = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--peer", seed.EndPoint, "--listen", "127.0.0.1:0", "--timeout", "2m", "--max-download-rate", "4M", "--max-upload-rate", "500K");
        }

        Assert.True(deployed.ExitCode == 0, deployed.ToString());
        Assert.Equal(await File.ReadAllBytesAsync(image, TestContext.Current.CancellationToken), await File.ReadAllBytesAsync(_dir.File("target.img"), TestContext.Current.CancellationToken));
    }
}

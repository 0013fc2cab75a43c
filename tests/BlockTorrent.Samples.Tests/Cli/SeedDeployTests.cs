using System.Text.Json;
using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

public sealed class SeedDeployTests : IDisposable
{
    private const int ImageLength = 4 << 20;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task DeployFromASeedMakesABitExactTargetAndExitsZero()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        Assert.Equal(0, (await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB")).ExitCode);
        int seedPort = Ports.Free();
        using var stopSeed = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        Task<CliResult> seed = CliRun.RunUntilAsync(stopSeed.Token, "seed", _dir.File("disk.torrent"), "--source", image, "--listen", $"127.0.0.1:{seedPort}");

        CliResult deploy = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--peer", $"127.0.0.1:{seedPort}", "--listen", $"127.0.0.1:{Ports.Free()}", "--json", "--timeout", "2m");
        await stopSeed.CancelAsync();
        CliResult seeded = await seed;

        Assert.True(deploy.ExitCode == 0, deploy.ToString());
        Assert.Equal(File.ReadAllBytes(image), File.ReadAllBytes(_dir.File("target.img")));
        JsonElement result = JsonDocument.Parse(deploy.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;
        Assert.Equal("result", result.GetProperty("event").GetString());
        Assert.Equal(32, result.GetProperty("piecesDownloaded").GetInt32());
        Assert.Equal(0, seeded.ExitCode);
        Assert.False(File.Exists(_dir.File("target.img") + ".blocktorrent-resume"));
    }

    [Fact]
    public async Task DeployWithNoPeersGivesUpAfterTheTimeoutWithExitCodeSix()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"));
        CliResult result = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--listen", $"127.0.0.1:{Ports.Free()}", "--timeout", "2s");
        Assert.Equal(6, result.ExitCode);
        Assert.Contains("run the same command again to resume", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeployOfAMissingTorrentExitsWithThree()
    {
        CliResult result = await CliRun.RunAsync("deploy", _dir.File("none.torrent"), "--target", _dir.File("target.img"));
        Assert.Equal(3, result.ExitCode);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task DeployOfAnInvalidTorrentExitsWithThree()
    {
        File.WriteAllText(_dir.File("bad.torrent"), "d4:infoi3ee");
        CliResult result = await CliRun.RunAsync("deploy", _dir.File("bad.torrent"), "--target", _dir.File("target.img"));
        Assert.Equal(3, result.ExitCode);
        Assert.Contains("not a valid .torrent", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeployToADirectoryIsRefusedWithFour()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"));
        CliResult result = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.Path);
        Assert.Equal(4, result.ExitCode);
    }

    [Fact]
    public async Task DeployDryRunWritesNothing()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB");
        CliResult result = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--dry-run");
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("to fetch at most:  32 pieces", result.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task DeployRejectsABadSeedAfterDuration()
    {
        CliResult result = await CliRun.RunAsync("deploy", "x.torrent", "--target", "y", "--seed-after", "soon");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--seed-after", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeployRejectsABadPeerAddress()
    {
        CliResult result = await CliRun.RunAsync("deploy", "x.torrent", "--target", "y", "--peer", "nowhere");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--peer", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeedFromASourceSmallerThanTheImageIsRefusedWithFour()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"));
        File.WriteAllBytes(_dir.File("small.img"), new byte[4096]);
        CliResult result = await CliRun.RunAsync("seed", _dir.File("disk.torrent"), "--source", _dir.File("small.img"), "--listen", $"127.0.0.1:{Ports.Free()}");
        Assert.Equal(4, result.ExitCode);
        Assert.Contains("too small", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SeedFromAMissingSourceExitsWithThree()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"));
        CliResult result = await CliRun.RunAsync("seed", _dir.File("disk.torrent"), "--source", _dir.File("none.img"));
        Assert.Equal(3, result.ExitCode);
    }
}

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
        (string image, CliResult deploy, CliResult seeded) = await DeployFromASeedAsync(_dir.File("target.img"));

        Assert.True(deploy.ExitCode == 0, deploy.ToString());
        Assert.Equal(File.ReadAllBytes(image), File.ReadAllBytes(_dir.File("target.img")));
        JsonElement result = ResultOf(deploy);
        Assert.Equal("result", result.GetProperty("event").GetString());
        Assert.Equal(32, result.GetProperty("piecesDownloaded").GetInt32());
        Assert.Equal(0, seeded.ExitCode);
        Assert.False(File.Exists(_dir.File("target.img") + ".blocktorrent-resume"));
    }

    [Fact]
    public async Task DeployJsonResultSaysWhenTheFirstByteAndTheFirstPieceCameFromTheSwarm()
    {
        (_, CliResult deploy, _) = await DeployFromASeedAsync(_dir.File("target.img"));

        Assert.True(deploy.ExitCode == 0, deploy.ToString());
        JsonElement result = ResultOf(deploy);
        double firstByte = result.GetProperty("firstByteSeconds").GetDouble();
        double firstPiece = result.GetProperty("firstPieceSeconds").GetDouble();
        Assert.InRange(firstByte, 0, firstPiece);
        Assert.InRange(firstPiece, firstByte, result.GetProperty("seconds").GetDouble());
    }

    [Fact]
    public async Task DeployOfATargetAlreadyCompleteSaysNoByteCameFromTheSwarm()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        Assert.Equal(0, (await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB")).ExitCode);
        File.Copy(image, _dir.File("target.img"));

        CliResult deploy = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--listen", $"127.0.0.1:{Ports.Free()}", "--json", "--timeout", "2m");

        Assert.True(deploy.ExitCode == 0, deploy.ToString());
        JsonElement result = ResultOf(deploy);
        Assert.Equal(JsonValueKind.Null, result.GetProperty("firstByteSeconds").ValueKind);
        Assert.Equal(JsonValueKind.Null, result.GetProperty("firstPieceSeconds").ValueKind);
    }

    [Fact]
    public async Task DeployToAnImageFileUnderDevShmTreatsItAsAFileNotADevice()
    {
        Requires.Linux();
        Requires.That(Directory.Exists("/dev/shm"), "this test needs /dev/shm.");
        string target = $"/dev/shm/blocktorrent-test-{Guid.NewGuid():N}.img";
        try
        {
            // Created as a new image file, then (existing, a regular file) checked and reused as one.
            (string image, CliResult created, _) = await DeployFromASeedAsync(target);
            CliResult again = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", target, "--listen", $"127.0.0.1:{Ports.Free()}", "--json", "--timeout", "2m");

            Assert.True(created.ExitCode == 0, created.ToString());
            Assert.True(again.ExitCode == 0, again.ToString());
            Assert.Equal(File.ReadAllBytes(image), File.ReadAllBytes(target));
            Assert.Equal(ImageLength / (64 << 10), ResultOf(again).GetProperty("piecesAlreadyPresent").GetInt32());
        }
        finally
        {
            File.Delete(target);
        }
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

    /// <summary>The last line of a deploy's --json output: its result.</summary>
    private static JsonElement ResultOf(CliResult deploy) => JsonDocument.Parse(deploy.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;

    /// <summary>Makes an image and its torrent (64 KiB pieces), seeds it, and deploys it onto <paramref name="target"/> with --json.</summary>
    private async Task<(string Image, CliResult Deploy, CliResult Seed)> DeployFromASeedAsync(string target)
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        Assert.Equal(0, (await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB")).ExitCode);
        int seedPort = Ports.Free();
        using var stopSeed = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        Task<CliResult> seed = CliRun.RunUntilAsync(stopSeed.Token, "seed", _dir.File("disk.torrent"), "--source", image, "--listen", $"127.0.0.1:{seedPort}");
        CliResult deploy = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", target, "--peer", $"127.0.0.1:{seedPort}", "--listen", $"127.0.0.1:{Ports.Free()}", "--json", "--timeout", "2m");
        await stopSeed.CancelAsync();
        return (image, deploy, await seed);
    }
}

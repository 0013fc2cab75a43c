using System.Text.Json;
using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

public sealed class CompressedImageCliTests : IDisposable
{
    private const int ImageLength = 6 << 20;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task CreateCompressWritesASeekableImageWhoseInfoShowsTheFormatAndRatio()
    {
        await File.WriteAllBytesAsync(_dir.File("disk.img"), CompressibleImage.Create(ImageLength), TestContext.Current.CancellationToken);

        CliResult created = await CliRun.RunAsync("create", "--compress", "zstd", _dir.File("disk.img"), "-o", _dir.File("disk.torrent"));

        Assert.True(created.ExitCode == 0, created.ToString());
        CliResult info = await CliRun.RunAsync("info", _dir.File("disk.torrent"), "--json");
        JsonElement json = JsonDocument.Parse(info.Output).RootElement;
        Assert.Equal("zstd", json.GetProperty("format").GetString());
        Assert.Equal(ImageLength, json.GetProperty("rawSize").GetInt64());
        Assert.Equal(new FileInfo(_dir.File("disk.img.btz")).Length, json.GetProperty("size").GetInt64());
        Assert.True(json.GetProperty("ratio").GetDouble() > 2, info.Output);
        Assert.Equal("disk.img.btz", json.GetProperty("name").GetString());
    }

    [Fact]
    public async Task DeployOfACompressedImageWritesTheRawImageThatVerifyMatches()
    {
        byte[] image = CompressibleImage.Create(ImageLength, seed: 9);
        await File.WriteAllBytesAsync(_dir.File("disk.img"), image, TestContext.Current.CancellationToken);
        Assert.Equal(0, (await CliRun.RunAsync("create", "--compress", "zstd", _dir.File("disk.img"), "-o", _dir.File("disk.torrent"))).ExitCode);

        CliResult deployed;
        await using (LibrarySeed seed = LibrarySeed.Start(_dir.File("disk.torrent"), _dir.File("disk.img.btz")))
        {
            deployed = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--peer", seed.EndPoint, "--listen", "127.0.0.1:0", "--timeout", "2m");
        }

        Assert.True(deployed.ExitCode == 0, deployed.ToString());
        Assert.Equal(image, await File.ReadAllBytesAsync(_dir.File("target.img"), TestContext.Current.CancellationToken));
        CliResult verified = await CliRun.RunAsync("verify", _dir.File("disk.torrent"), "--target", _dir.File("target.img"));
        Assert.True(verified.ExitCode == 0, verified.ToString());
        Assert.Contains("the raw image matches", verified.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeploySeedAfterOfASeekableImageServesTheNextTargetOnceTheFirstIsDone()
    {
        byte[] image = CompressibleImage.Create(ImageLength, seed: 13);
        await File.WriteAllBytesAsync(_dir.File("disk.img"), image, TestContext.Current.CancellationToken);
        Assert.Equal(0, (await CliRun.RunAsync("create", "--compress", "zstd", _dir.File("disk.img"), "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB")).ExitCode);
        int firstPort = Ports.Free();
        using var stopFirst = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        RunningCli first;
        await using (LibrarySeed seed = LibrarySeed.Start(_dir.File("disk.torrent"), _dir.File("disk.img.btz")))
        {
            first = CliRun.Start(stopFirst.Token, "deploy", _dir.File("disk.torrent"), "--target", _dir.File("first.img"), "--peer", seed.EndPoint, "--listen", $"127.0.0.1:{firstPort}", "--timeout", "2m", "--seed-after", "forever");

            // The seeding phase starts only after the deployment returned: its swarm, which served while it deployed, is gone.
            await Eventually.TrueAsync(() => first.OutputSoFar().Contains("seeding disk.img.btz from", StringComparison.Ordinal) || first.Run.IsCompleted, TimeSpan.FromMinutes(2), () => "the first target seeds after its deployment\n" + first.OutputSoFar(), TestContext.Current.CancellationToken);
            Assert.False(first.Run.IsCompleted, first.OutputSoFar());
        }

        // The original seed is gone: every piece the second target gets, the first re-encodes from its raw image.
        CliResult second = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("second.img"), "--peer", $"127.0.0.1:{firstPort}", "--listen", $"127.0.0.1:{Ports.Free()}", "--timeout", "2m", "--stall-timeout", "2m");
        await stopFirst.CancelAsync();
        CliResult firstResult = await first.ResultAsync();

        Assert.True(second.ExitCode == 0, second + "\nfirst: " + firstResult);
        Assert.Equal(image, await File.ReadAllBytesAsync(_dir.File("second.img"), TestContext.Current.CancellationToken));
        Assert.True(firstResult.ExitCode == 0, firstResult.ToString());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SeedWithDefaultSettingsServesASeekableImageOrAZstdStreamThatDeploysBitExact(bool seekable)
    {
        byte[] image = CompressibleImage.Create(ImageLength, seed: 11);
        await File.WriteAllBytesAsync(_dir.File("disk.img"), image, TestContext.Current.CancellationToken);
        string compressed;
        CliResult created;
        if (seekable)
        {
            compressed = _dir.File("disk.img.btz");
            created = await CliRun.RunAsync("create", "--compress", "zstd", _dir.File("disk.img"), "-o", _dir.File("disk.torrent"));
        }
        else
        {
            compressed = _dir.File("disk.img.zst");
            await using (var file = File.Create(compressed))
            await using (var zstd = new ZstdSharp.CompressionStream(file, 3))
            {
                await zstd.WriteAsync(image, TestContext.Current.CancellationToken);
            }

            created = await CliRun.RunAsync("create", compressed, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB");
        }

        Assert.True(created.ExitCode == 0, created.ToString());
        int seedPort = Ports.Free();
        using var stopSeed = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        Task<CliResult> seed = CliRun.RunUntilAsync(stopSeed.Token, "seed", _dir.File("disk.torrent"), "--source", compressed, "--listen", $"127.0.0.1:{seedPort}");

        CliResult deploy = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--peer", $"127.0.0.1:{seedPort}", "--listen", $"127.0.0.1:{Ports.Free()}", "--timeout", "2m", "--stall-timeout", "2m", "--seed-after", seekable ? "1s" : "30s");
        await stopSeed.CancelAsync();
        CliResult seeded = await seed;

        Assert.True(deploy.ExitCode == 0, deploy + "\nseed: " + seeded);
        Assert.Equal(image, await File.ReadAllBytesAsync(_dir.File("target.img"), TestContext.Current.CancellationToken));
        Assert.True(seeded.ExitCode == 0, seeded.ToString());

        // A stream's target holds the raw image, from which a stream's pieces cannot be made again: it does not seed.
        if (!seekable)
        {
            Assert.Contains("not seeding after the deployment", deploy.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task DeployWithJsonReportsTheScratchPeakOfAZstdStreamWithinItsScratchSize()
    {
        const int scratch = 256 << 10;
        byte[] image = CompressibleImage.Create(ImageLength, seed: 12);
        string compressed = _dir.File("disk.img.zst");
        await using (var file = File.Create(compressed))
        await using (var zstd = new ZstdSharp.CompressionStream(file, 3))
        {
            await zstd.WriteAsync(image, TestContext.Current.CancellationToken);
        }

        CliResult created = await CliRun.RunAsync("create", compressed, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB");
        Assert.True(created.ExitCode == 0, created.ToString());
        int seedPort = Ports.Free();
        using var stopSeed = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        Task<CliResult> seed = CliRun.RunUntilAsync(stopSeed.Token, "seed", _dir.File("disk.torrent"), "--source", compressed, "--listen", $"127.0.0.1:{seedPort}", "--no-super-seed");

        CliResult deploy = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--peer", $"127.0.0.1:{seedPort}", "--listen", $"127.0.0.1:{Ports.Free()}", "--timeout", "2m", "--stall-timeout", "2m", "--scratch-size", "256KiB", "--json");
        await stopSeed.CancelAsync();
        await seed;

        Assert.True(deploy.ExitCode == 0, deploy.ToString());
        Assert.Equal(image, await File.ReadAllBytesAsync(_dir.File("target.img"), TestContext.Current.CancellationToken));
        string resultLine = deploy.Output.Split('\n').Single(line => line.Contains("\"event\":\"result\"", StringComparison.Ordinal));
        long peak = JsonDocument.Parse(resultLine).RootElement.GetProperty("scratchPeakBytes").GetInt64();
        Assert.InRange(peak, 64 << 10, scratch);
    }

    [Fact]
    public async Task VerifyOfACompressedImageFailsWithFiveWhenTheRawImageDiffers()
    {
        byte[] image = CompressibleImage.Create(ImageLength, seed: 10);
        await File.WriteAllBytesAsync(_dir.File("disk.img"), image, TestContext.Current.CancellationToken);
        Assert.Equal(0, (await CliRun.RunAsync("create", "--compress", "zstd", _dir.File("disk.img"), "-o", _dir.File("disk.torrent"))).ExitCode);
        image[ImageLength / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(_dir.File("changed.img"), image, TestContext.Current.CancellationToken);

        CliResult verified = await CliRun.RunAsync("verify", _dir.File("disk.torrent"), "--target", _dir.File("changed.img"));

        Assert.True(verified.ExitCode == 5, verified.ToString());
        Assert.Contains("differs", verified.Output, StringComparison.Ordinal);
    }
}

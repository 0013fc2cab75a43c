using System.Net;
using System.Net.Sockets;
using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

public sealed class EmbeddedTrackerTests : IDisposable
{
    private const int ImageLength = 4 << 20;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ATargetFindsASeedThroughTheSeedsEmbeddedTrackerAlone()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        Assert.Equal(0, (await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB")).ExitCode);
        int trackerPort = Ports.Free();
        using var stopSeed = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        Task<CliResult> seed = CliRun.RunUntilAsync(stopSeed.Token, "seed", _dir.File("disk.torrent"), "--source", image, "--listen", "127.0.0.1:0", "--embedded-tracker", $"127.0.0.1:{trackerPort}");

        CliResult deploy = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--tracker", $"http://127.0.0.1:{trackerPort}/announce", "--listen", "127.0.0.1:0", "--timeout", "2m");
        await stopSeed.CancelAsync();
        CliResult seeded = await seed;

        Assert.True(deploy.ExitCode == 0, deploy.ToString() + seeded);
        Assert.Equal(File.ReadAllBytes(image), File.ReadAllBytes(_dir.File("target.img")));
        Assert.Contains($"tracker running at http://127.0.0.1:{trackerPort}/announce", seeded.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmbeddedTrackerOnAPortInUseFailsWithOneClearMessage()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"));
        using var taken = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        taken.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        taken.Listen();

        CliResult result = await CliRun.RunAsync("seed", _dir.File("disk.torrent"), "--source", image, "--listen", "127.0.0.1:0", "--embedded-tracker", taken.LocalEndPoint!.ToString()!);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"cannot run the tracker on {taken.LocalEndPoint}", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmbeddedTrackerAddressThatIsNotAnEndPointIsAUsageError()
    {
        CliResult result = await CliRun.RunAsync("seed", "x.torrent", "--source", "x.img", "--embedded-tracker", "tracker");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--embedded-tracker", result.Error, StringComparison.Ordinal);
    }
}

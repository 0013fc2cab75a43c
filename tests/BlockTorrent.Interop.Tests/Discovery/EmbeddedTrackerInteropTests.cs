using System.Net;
using BlockTorrent.Discovery;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Discovery;

/// <summary>
/// Our embedded tracker used by clients nobody here wrote: they find each other ONLY through it (no DHT, no LSD,
/// no PEX) and the download completes bit-exact.
/// </summary>
public sealed class EmbeddedTrackerInteropTests
{
    private const int PayloadSize = 3 * 1024 * 1024 + 12345;

    [Fact]
    public async Task TwoLibtorrentSessionsFindEachOtherThroughOurTracker()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        Requires.PythonLibtorrent();
        await using EmbeddedTracker tracker = await StartTrackerAsync(ct);
        using var dir = new TempDirectory();
        string seedDir = Directory.CreateDirectory(Path.Combine(dir.Path, "seed")).FullName;
        string downloadDir = Directory.CreateDirectory(Path.Combine(dir.Path, "download")).FullName;
        (_, string torrent) = await LibtorrentPeer.MakeTorrentAsync(seedDir, PayloadSize, tracker.AnnounceUri.ToString(), ct);

        await using LibtorrentPeer seed = await LibtorrentPeer.StartAsync("seed", seedDir, torrent, "127.0.0.1:0", lsd: false, ns: null, ct);
        await using LibtorrentPeer downloader = await LibtorrentPeer.StartAsync("download", downloadDir, torrent, "127.0.0.1:0", lsd: false, ns: null, ct);
        await Eventually.TrueAsync(() => downloader.HasExited, TimeSpan.FromSeconds(90), "the libtorrent download to finish", ct);

        Assert.True(downloader.ExitCode == 0, $"libtorrent did not complete the download:\n{downloader.Output}\nseed:\n{seed.Output}");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(seedDir, "payload.bin"), ct), await File.ReadAllBytesAsync(Path.Combine(downloadDir, "payload.bin"), ct));
        Assert.Equal(1, tracker.TorrentCount);
    }

    [Fact]
    public async Task Aria2DownloadsFromALibtorrentSeedFoundThroughOurTracker()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        Requires.PythonLibtorrent();
        string aria2 = Requires.Program("aria2c", "aria2");
        await using EmbeddedTracker tracker = await StartTrackerAsync(ct);
        using var dir = new TempDirectory();
        string seedDir = Directory.CreateDirectory(Path.Combine(dir.Path, "seed")).FullName;
        string downloadDir = Directory.CreateDirectory(Path.Combine(dir.Path, "download")).FullName;
        (_, string torrent) = await LibtorrentPeer.MakeTorrentAsync(seedDir, PayloadSize, tracker.AnnounceUri.ToString(), ct);
        await using LibtorrentPeer seed = await LibtorrentPeer.StartAsync("seed", seedDir, torrent, "127.0.0.1:0", lsd: false, ns: null, ct);
        int port = FreeTcpPort();

        ProgramResult result = await ExternalProgram.RunAsync(
            aria2,
            [
                "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
                "--seed-time=0", "--file-allocation=none", "--summary-interval=0", "--console-log-level=warn",
                $"--listen-port={port}", "--bt-stop-timeout=60", "-d", downloadDir, torrent,
            ],
            TimeSpan.FromSeconds(90),
            dir.Path,
            ct);

        Assert.True(result.ExitCode == 0, $"aria2c exited with {result.ExitCode}:\n{result.StandardOutput}\n{result.StandardError}\nseed:\n{seed.Output}");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(seedDir, "payload.bin"), ct), await File.ReadAllBytesAsync(Path.Combine(downloadDir, "payload.bin"), ct));
    }

    private static async Task<EmbeddedTracker> StartTrackerAsync(CancellationToken ct)
    {
        var tracker = new EmbeddedTracker(new EmbeddedTrackerOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        await tracker.StartAsync(ct);
        return tracker;
    }

    private static int FreeTcpPort() => OpenTracker.FreePortForTcpAndUdp();
}

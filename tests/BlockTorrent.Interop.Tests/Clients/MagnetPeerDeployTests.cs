using System.Net;
using BlockTorrent.Discovery;
using BlockTorrent.Interop.Tests.Discovery;
using BlockTorrent.Interop.Tests.Swarm;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Clients;

/// <summary>
/// <c>blocktorrent deploy MAGNET</c>, as a process, from a seed nobody here wrote that the link names only by its
/// <c>x.pe</c> address or its tracker (<c>tr</c>) and that cannot dial the target back: the peers the link leads to
/// for the metadata must serve the image too.
/// </summary>
/// <remarks>
/// The target listens on 127.0.0.2 and dials from 127.0.0.1, so a seed that dials back the address and port it
/// learned (libtorrent does, about a minute later) reaches nothing: only the target's own dial can complete it.
/// </remarks>
public sealed class MagnetPeerDeployTests
{
    private const long ImageLength = (5 * 1024 * 1024) + 4321;

    // Well below the minute after which libtorrent dials a peer back.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task TheCliDeploysAMagnetLinkFromALibtorrentSeedItNamesOnlyAsItsPeer()
    {
        using var dir = new TempDirectory();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound * 3);
        var (image, manifest, torrent) = await InteropImages.CreateAsync(dir, ImageLength, seed: 71, TorrentVersions.Hybrid);
        await File.WriteAllBytesAsync(Path.Combine(dir.Path, manifest.Name), image, cts.Token);
        await using LibtorrentSwarmPeer libtorrent = await LibtorrentSwarmPeer.SeedAsync(torrent, dir.Path, cts.Token);

        await DeployFromMagnetAsync(dir, image, manifest, new IPEndPoint(IPAddress.Loopback, libtorrent.Port), () => libtorrent.Output, cts.Token);
    }

    [Fact]
    public async Task TheCliDeploysAMagnetLinkFromAQBittorrentSeedItNamesOnlyAsItsPeer()
    {
        using var dir = new TempDirectory();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound * 4);
        string seeded = Directory.CreateDirectory(dir.File("seeded")).FullName;
        var (image, manifest, torrent) = await InteropImages.CreateAsync(dir, ImageLength, seed: 72, TorrentVersions.Hybrid);
        await File.WriteAllBytesAsync(Path.Combine(seeded, manifest.Name), image, cts.Token);
        await using QBittorrent qbittorrent = await QBittorrent.StartAsync(seeded, cts.Token);
        await qbittorrent.AddTorrentAsync(torrent, seeded, paused: false, cts.Token);
        await Eventually.TrueAsync(
            () => qbittorrent.TorrentsAsync(cts.Token).GetAwaiter().GetResult() is [{ Progress: >= 1.0 }],
            TimeSpan.FromSeconds(30),
            () => $"qBittorrent to check the image and seed it; it said:\n{qbittorrent.Output}",
            cts.Token);

        await DeployFromMagnetAsync(dir, image, manifest, new IPEndPoint(IPAddress.Loopback, qbittorrent.PeerPort), () => qbittorrent.Output, cts.Token);
    }

    [Fact]
    public async Task TheCliDeploysAMagnetLinkFromALibtorrentSeedItFindsOnlyThroughTheLinksTracker()
    {
        using var dir = new TempDirectory();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound * 4);

        // The info-hashes do not cover the announce address: opentracker whitelists those of a first build.
        var (_, unannounced, _) = await InteropImages.CreateAsync(dir, ImageLength, seed: 73, TorrentVersions.Hybrid);
        await using OpenTracker tracker = await OpenTracker.StartAsync([unannounced.InfoHashV1!.Value, new InfoHash(unannounced.InfoHashV2!.Value.Truncated20.ToArray())], cts.Token);
        var (image, manifest, torrent) = await InteropImages.CreateAsync(dir, ImageLength, seed: 73, TorrentVersions.Hybrid, tracker.HttpAnnounceUri.ToString());
        await File.WriteAllBytesAsync(Path.Combine(dir.Path, manifest.Name), image, cts.Token);
        await using LibtorrentSwarmPeer libtorrent = await LibtorrentSwarmPeer.SeedAsync(torrent, dir.Path, cts.Token);
        using var scraper = new HttpTrackerClient(tracker.HttpAnnounceUri);
        await Eventually.TrueAsync(() => Seeders(scraper, manifest.InfoHashV1!.Value) == 1, TimeSpan.FromSeconds(20), "libtorrent's announce to reach opentracker", cts.Token);

        // The link's tr is the only way to the seed: no x.pe, no --peer.
        string link = MagnetLink.FromManifest(manifest).ToString();
        Assert.Contains("tr=", link, StringComparison.Ordinal);
        await DeployAsync(dir, image, link, () => libtorrent.Output, cts.Token);
    }

    private static Task DeployFromMagnetAsync(TempDirectory dir, byte[] image, TorrentManifest manifest, IPEndPoint seed, Func<string> seedOutput, CancellationToken cancellationToken) =>
        DeployAsync(dir, image, $"{MagnetLink.FromManifest(manifest)}&x.pe={seed}", seedOutput, cancellationToken);

    private static int Seeders(HttpTrackerClient scraper, InfoHash infoHash) =>
        scraper.ScrapeAsync([infoHash]).GetAwaiter().GetResult().TryGetValue(infoHash, out ScrapeStats stats) ? stats.Seeders : 0;

    private static async Task DeployAsync(TempDirectory dir, byte[] image, string link, Func<string> seedOutput, CancellationToken cancellationToken)
    {
        string target = dir.File("target.img");
        var listen = new IPEndPoint(IPAddress.Parse("127.0.0.2"), OpenTracker.FreePortForTcpAndUdp());

        await using RunningProgram deploy = BlockTorrentCli.Start("deploy", link, "--target", target, "--listen", listen.ToString());
        int exitCode = await deploy.WaitForExitAsync(Bound, cancellationToken);

        Assert.True(exitCode == 0, $"deploy exited with {exitCode}:\n{deploy.Output}\nthe seed said:\n{seedOutput()}");
        byte[] deployed = await File.ReadAllBytesAsync(target, cancellationToken);
        Assert.True(image.AsSpan().SequenceEqual(deployed), $"the deployed image differs:\n{deploy.Output}");
    }
}

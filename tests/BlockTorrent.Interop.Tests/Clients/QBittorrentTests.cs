using BlockTorrent.Interop.Tests.Swarm;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Clients;

/// <summary>qBittorrent 4.5 (libtorrent 2.0 inside) loads our manifests with our info-hashes and downloads from a BlockTorrent seed.</summary>
public sealed class QBittorrentTests
{
    private const long ImageLength = (3 * 1024 * 1024) + 4321;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task QBittorrentLoadsOurManifestsWithTheSameInfoHashes(TorrentVersions versions)
    {
        using var dir = new TempDirectory();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        var (_, manifest, torrent) = await InteropImages.CreateAsync(dir, ImageLength, seed: 61, versions);
        string downloads = Directory.CreateDirectory(dir.File("downloads")).FullName;
        await using QBittorrent qbittorrent = await QBittorrent.StartAsync(downloads, cts.Token);

        await qbittorrent.AddTorrentAsync(torrent, downloads, paused: true, cts.Token);

        IReadOnlyList<QBittorrent.TorrentInfo> torrents = [];
        await Eventually.TrueAsync(() => (torrents = qbittorrent.TorrentsAsync(cts.Token).GetAwaiter().GetResult()).Count > 0, TimeSpan.FromSeconds(20), () => $"qBittorrent to list the torrent; it said:\n{qbittorrent.Output}", cts.Token);
        QBittorrent.TorrentInfo info = Assert.Single(torrents);
        Assert.Equal(manifest.InfoHashV1?.ToHex() ?? string.Empty, info.InfoHashV1);
        Assert.Equal(manifest.InfoHashV2?.ToHex() ?? string.Empty, info.InfoHashV2);
        Assert.Equal(manifest.Name, info.Name);
    }

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task QBittorrentDownloadsABitExactCopyFromABlockTorrentSeed(TorrentVersions versions)
    {
        using var dir = new TempDirectory();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using TrackedSeed seed = await TrackedSeed.StartAsync(dir, ImageLength, seed: 62, versions, cts.Token);
        string downloads = Directory.CreateDirectory(dir.File("downloads")).FullName;
        await using QBittorrent qbittorrent = await QBittorrent.StartAsync(downloads, cts.Token);

        await qbittorrent.AddTorrentAsync(seed.TorrentPath, downloads, paused: false, cts.Token);
        await Eventually.TrueAsync(() => qbittorrent.TorrentsAsync(cts.Token).GetAwaiter().GetResult().Count == 1, TimeSpan.FromSeconds(20), "qBittorrent to list the torrent", cts.Token);
        string hash = (await qbittorrent.TorrentsAsync(cts.Token))[0].Hash;
        await qbittorrent.AddPeerAsync(hash, seed.Client!.LocalEndPoint, cts.Token);

        await Eventually.TrueAsync(
            () => qbittorrent.TorrentsAsync(cts.Token).GetAwaiter().GetResult()[0].Progress >= 1.0,
            TimeSpan.FromSeconds(60),
            () => $"qBittorrent to complete the download ({string.Join(", ", qbittorrent.TorrentsAsync(cts.Token).GetAwaiter().GetResult())}); it said:\n{qbittorrent.Output}",
            cts.Token);
        seed.AssertServedABitExactCopy(Path.Combine(downloads, seed.Manifest.Name), "qBittorrent");
    }
}

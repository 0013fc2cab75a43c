using BlockTorrent.Devices;
using BlockTorrent.Discovery;
using BlockTorrent.Interop.Tests.Swarm;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Discovery;

/// <summary>opentracker, a tracker nobody here wrote, tracks a mixed swarm that finds itself through it alone.</summary>
public sealed class OpenTrackerSwarmTests
{
    private const long ImageLength = (3 * 1024 * 1024) + 4321;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task ABlockTorrentSeedALibtorrentDownloaderAndABlockTorrentDownloaderFindEachOtherThroughOpentracker()
    {
        using var dir = new TempDirectory();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);

        // The info-hashes do not cover the announce address: build once for them, start opentracker with them
        // whitelisted (a hybrid torrent is announced under its v1 hash and its truncated v2 hash), build again with it.
        var (_, unannounced, _) = await InteropImages.CreateAsync(dir, ImageLength, seed: 71, TorrentVersions.Hybrid);
        await using OpenTracker tracker = await OpenTracker.StartAsync([unannounced.InfoHashV1!.Value, new InfoHash(unannounced.InfoHashV2!.Value.Truncated20.ToArray())], cts.Token);
        var (image, manifest, torrent) = await InteropImages.CreateAsync(dir, ImageLength, seed: 71, TorrentVersions.Hybrid, tracker.HttpAnnounceUri.ToString());
        Assert.Equal(unannounced.InfoHashV1, manifest.InfoHashV1);

        await using var seeder = new BlockTorrentClient(InteropImages.Loopback(), new TestOutputLoggerFactory());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        using var scraper = new HttpTrackerClient(tracker.HttpAnnounceUri);
        await Eventually.TrueAsync(() => Seeders(scraper, manifest.InfoHashV1!.Value) == 1, TimeSpan.FromSeconds(20), "the seed's announce to reach opentracker", cts.Token);

        // Neither downloader is given a peer: opentracker's answers are the only way to the seed and to each other.
        await using var deployer = new BlockTorrentClient(InteropImages.Loopback(), new TestOutputLoggerFactory());
        var target = new MemoryBlockDevice(manifest.Length);
        Task<DeploymentResult> deploying = deployer.DeployAsync(manifest, target, null, null, cts.Token);
        string downloads = Directory.CreateDirectory(dir.File("libtorrent")).FullName;
        await using (LibtorrentSwarmPeer libtorrent = await LibtorrentSwarmPeer.DownloadFromTrackersAsync(torrent, downloads, cts.Token))
        {
            await libtorrent.WaitForCompletionAsync(TimeSpan.FromSeconds(60), cts.Token);
        }

        DeploymentResult result = await deploying;
        Assert.True(image.AsSpan().SequenceEqual(target.Contents.Span), "BlockTorrent's deployed image differs");
        Assert.True(result.BytesDownloaded > 0);
        Assert.Equal(image, await File.ReadAllBytesAsync(Path.Combine(downloads, manifest.Name), cts.Token));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    private static int Seeders(HttpTrackerClient scraper, InfoHash infoHash) =>
        scraper.ScrapeAsync([infoHash]).GetAwaiter().GetResult().TryGetValue(infoHash, out ScrapeStats stats) ? stats.Seeders : 0;
}

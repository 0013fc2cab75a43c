using System.Net;
using BlockTorrent.Devices;
using BlockTorrent.Discovery;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Swarm;

public sealed class TrackerDeployTests
{
    [Fact]
    public async Task ATargetFindsItsSeedThroughTheEmbeddedTrackerAlone()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(3 * 1024 * 1024, seed: 21);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await using var tracker = new EmbeddedTracker(new EmbeddedTrackerOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), AdvertisedHost = "127.0.0.1" });
        await tracker.StartAsync(cts.Token);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        var seedOptions = new SeedOptions();
        seedOptions.Trackers.Add(tracker.AnnounceUri);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), seedOptions, cts.Token);
        await Eventually.TrueAsync(() => tracker.TorrentCount == 1, TimeSpan.FromSeconds(20), "the seed's announce to reach the tracker", cts.Token);

        // No explicit peers: the only way to the seed is the tracker's answer.
        var options = new DeployOptions();
        options.Trackers.Add(tracker.AnnounceUri);
        var target = new MemoryBlockDevice(manifest.Length);
        DeploymentResult result = await deployer.DeployAsync(manifest, target, options, null, cts.Token);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.True(result.BytesDownloaded > 0);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }
}

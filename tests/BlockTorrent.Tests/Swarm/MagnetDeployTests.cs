using System.Net;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;

namespace BlockTorrent.Tests.Swarm;

/// <summary>Deployments that start from a magnet link: the manifest comes from the peers (BEP 9, BEP 52).</summary>
public sealed class MagnetDeployTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task AMagnetLinkDeploysABitExactImageFromASeed(TorrentVersions versions)
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync((3 * 1024 * 1024) + 777, seed: 21, versions);
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        var magnet = new MagnetLink(manifest.InfoHashV1, manifest.InfoHashV2, manifest.Name, peers: [seeder.LocalEndPoint]);
        var target = new MemoryBlockDevice(manifest.Length);

        DeploymentResult result = await deployer.DeployAsync(magnet, target, null, null, cts.Token);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.Equal(0, result.HashFailures);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Fact]
    public async Task AFetchedManifestIsTheSeedsManifestWithTheMagnetLinksTrackers()
    {
        var (_, manifest) = await SwarmTestImages.CreateAsync(2 * 1024 * 1024, seed: 22, TorrentVersions.V2);
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var fetcher = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(manifest.Length), null, cts.Token);
        var magnet = new MagnetLink(null, manifest.InfoHashV2, trackers: ["http://127.0.0.1:1/announce"]);
        var options = SwarmTestImages.From(seeder.LocalEndPoint);

        TorrentManifest fetched = await fetcher.FetchManifestAsync(magnet, options, cts.Token);

        Assert.Equal(manifest.InfoDictionary.ToArray(), fetched.InfoDictionary.ToArray());
        Assert.True(fetched.HasPieceLayer);
        Assert.Equal(Enumerable.Range(0, manifest.PieceCount).Select(i => manifest.GetPieceHashV2(i).ToArray()), Enumerable.Range(0, fetched.PieceCount).Select(i => fetched.GetPieceHashV2(i).ToArray()));
        Assert.Equal(["http://127.0.0.1:1/announce"], fetched.Trackers);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Fact]
    public async Task WhenNoPeerDeliversTheFetchTimesOutNamingTheMagnetLink()
    {
        await using var client = new BlockTorrentClient(SwarmTestImages.Loopback());
        var magnet = new MagnetLink(new InfoHash(new byte[20]), null, "lonely.img");
        var options = new DeployOptions { MetadataTimeout = TimeSpan.FromMilliseconds(300) };

        TimeoutException error = await Assert.ThrowsAsync<TimeoutException>(() => client.FetchManifestAsync(magnet, options, TestContext.Current.CancellationToken));

        Assert.Contains("lonely.img", error.Message, StringComparison.Ordinal);
        Assert.Contains("no peer was found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMetadataSizeLimitOutsideItsRangeIsRefused()
    {
        await using var client = new BlockTorrentClient(SwarmTestImages.Loopback());
        var magnet = new MagnetLink(new InfoHash(new byte[20]), null);
        var options = new DeployOptions { MaxMetadataSize = 0 };

        ArgumentException error = await Assert.ThrowsAsync<ArgumentException>(() => client.FetchManifestAsync(magnet, options, TestContext.Current.CancellationToken));

        Assert.Equal(nameof(DeployOptions.MaxMetadataSize), error.ParamName);
    }

    [Fact]
    public async Task AMagnetPeerGivenByHostNameIsResolved()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(1024 * 1024, seed: 23, TorrentVersions.V1);
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var fetcher = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        var magnet = new MagnetLink(manifest.InfoHashV1, null, peers: [new DnsEndPoint("localhost", seeder.LocalEndPoint.Port)]);

        TorrentManifest fetched = await fetcher.FetchManifestAsync(magnet, null, cts.Token);

        Assert.Equal(manifest.InfoHashV1, fetched.InfoHashV1);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }
}

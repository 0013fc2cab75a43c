using System.Net;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Swarm;

/// <summary>BlockTorrent and libtorrent transfer images both ways, for v1, v2 and hybrid torrents.</summary>
public sealed class LibtorrentSwarmTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public Task LibtorrentDownloadsABitExactCopyFromABlockTorrentSeed(TorrentVersions versions) =>
        LibtorrentDownloadsFromABlockTorrentSeedAsync(versions, 21, (manifest, torrent, seed, downloads, ct) => LibtorrentSwarmPeer.DownloadAsync(torrent, downloads, seed, ct));

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public Task BlockTorrentDeploysABitExactCopyFromALibtorrentSeed(TorrentVersions versions) =>
        BlockTorrentDeploysFromALibtorrentSeedAsync(versions, 22, (deployer, manifest, target, libtorrent, ct) =>
        {
            var options = new DeployOptions();
            options.Peers.Add(libtorrent);
            return deployer.DeployAsync(manifest, target, options, null, ct);
        });

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public Task LibtorrentStartingFromAMagnetLinkDownloadsABitExactCopyFromABlockTorrentSeed(TorrentVersions versions) =>
        // libtorrent gets the info dictionary from us (BEP 9) and, for v2, the piece layer (BEP 52 hash requests).
        LibtorrentDownloadsFromABlockTorrentSeedAsync(versions, 24, (manifest, _, seed, downloads, ct) => LibtorrentSwarmPeer.DownloadMagnetAsync(MagnetLink.FromManifest(manifest).ToString(), downloads, seed, ct));

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public Task BlockTorrentDeploysFromAMagnetLinkOffALibtorrentSeed(TorrentVersions versions) =>
        BlockTorrentDeploysFromALibtorrentSeedAsync(versions, 25, (deployer, manifest, target, libtorrent, ct) =>
            deployer.DeployAsync(MagnetLink.Parse($"{MagnetLink.FromManifest(manifest)}&x.pe={libtorrent}"), target, null, null, ct));

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task LibtorrentAcceptsEveryPieceHashOfOurManifests(TorrentVersions versions)
    {
        using var dir = new TempDirectory();
        var (image, manifest, torrent) = await InteropImages.CreateAsync(dir, 5 * 1024 * 1024 + 4321, seed: 23, versions);
        await File.WriteAllBytesAsync(Path.Combine(dir.Path, manifest.Name), image, TestContext.Current.CancellationToken);

        await LibtorrentSwarmPeer.CheckAsync(torrent, dir.Path, TestContext.Current.CancellationToken);
    }

    private static async Task LibtorrentDownloadsFromABlockTorrentSeedAsync(TorrentVersions versions, int seed, Func<TorrentManifest, string, IPEndPoint, string, CancellationToken, Task<LibtorrentSwarmPeer>> startDownload)
    {
        using var dir = new TempDirectory();
        var (image, manifest, torrent) = await InteropImages.CreateAsync(dir, 5 * 1024 * 1024 + 4321, seed, versions);
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(InteropImages.Loopback(), new TestOutputLoggerFactory());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        string downloads = Directory.CreateDirectory(Path.Combine(dir.Path, "lt")).FullName;

        await using (LibtorrentSwarmPeer libtorrent = await startDownload(manifest, torrent, seeder.LocalEndPoint, downloads, cts.Token))
        {
            await libtorrent.WaitForCompletionAsync(Bound, cts.Token);
        }

        Assert.Equal(image, await File.ReadAllBytesAsync(Path.Combine(downloads, manifest.Name), cts.Token));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    private static async Task BlockTorrentDeploysFromALibtorrentSeedAsync(TorrentVersions versions, int seed, Func<BlockTorrentClient, TorrentManifest, MemoryBlockDevice, IPEndPoint, CancellationToken, Task<DeploymentResult>> deploy)
    {
        using var dir = new TempDirectory();
        var (image, manifest, torrent) = await InteropImages.CreateAsync(dir, 5 * 1024 * 1024 + 4321, seed, versions);
        await File.WriteAllBytesAsync(Path.Combine(dir.Path, manifest.Name), image, TestContext.Current.CancellationToken);
        using var cts = new CancellationTokenSource(Bound);
        await using var libtorrent = await LibtorrentSwarmPeer.SeedAsync(torrent, dir.Path, cts.Token);
        await using var deployer = new BlockTorrentClient(InteropImages.Loopback(), new TestOutputLoggerFactory());
        var target = new MemoryBlockDevice(manifest.Length);

        DeploymentResult result = await deploy(deployer, manifest, target, new IPEndPoint(IPAddress.Loopback, libtorrent.Port), cts.Token);

        Assert.True(image.AsSpan().SequenceEqual(target.Contents.Span), $"the deployed image differs\n{libtorrent.Output}");
        Assert.Equal(0, result.HashFailures);
    }
}

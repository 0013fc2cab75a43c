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
    public async Task LibtorrentDownloadsABitExactCopyFromABlockTorrentSeed(TorrentVersions versions)
    {
        using var dir = new TempDirectory();
        var (image, manifest, torrent) = await InteropImages.CreateAsync(dir, 5 * 1024 * 1024 + 4321, seed: 21, versions);
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(InteropImages.Loopback(), new TestOutputLoggerFactory());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        string downloads = Directory.CreateDirectory(Path.Combine(dir.Path, "lt")).FullName;

        await using (var libtorrent = await LibtorrentSwarmPeer.DownloadAsync(torrent, downloads, seeder.LocalEndPoint, cts.Token))
        {
            await libtorrent.WaitForCompletionAsync(Bound, cts.Token);
        }

        Assert.Equal(image, await File.ReadAllBytesAsync(Path.Combine(downloads, manifest.Name), cts.Token));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task BlockTorrentDeploysABitExactCopyFromALibtorrentSeed(TorrentVersions versions)
    {
        using var dir = new TempDirectory();
        var (image, manifest, torrent) = await InteropImages.CreateAsync(dir, 5 * 1024 * 1024 + 4321, seed: 22, versions);
        await File.WriteAllBytesAsync(Path.Combine(dir.Path, manifest.Name), image, TestContext.Current.CancellationToken);
        using var cts = new CancellationTokenSource(Bound);
        await using var libtorrent = await LibtorrentSwarmPeer.SeedAsync(torrent, dir.Path, cts.Token);
        await using var deployer = new BlockTorrentClient(InteropImages.Loopback(), new TestOutputLoggerFactory());
        var target = new MemoryBlockDevice(manifest.Length);
        var options = new DeployOptions();
        options.Peers.Add(new IPEndPoint(IPAddress.Loopback, libtorrent.Port));

        DeploymentResult result = await deployer.DeployAsync(manifest, target, options, null, cts.Token);

        Assert.True(image.AsSpan().SequenceEqual(target.Contents.Span), $"the deployed image differs\n{libtorrent.Output}");
        Assert.Equal(0, result.HashFailures);
    }

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task LibtorrentStartingFromAMagnetLinkDownloadsABitExactCopyFromABlockTorrentSeed(TorrentVersions versions)
    {
        // libtorrent gets the info dictionary from us (BEP 9) and, for v2, the piece layer (BEP 52 hash requests).
        using var dir = new TempDirectory();
        var (image, manifest, _) = await InteropImages.CreateAsync(dir, 5 * 1024 * 1024 + 4321, seed: 24, versions);
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(InteropImages.Loopback(), new TestOutputLoggerFactory());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        string downloads = Directory.CreateDirectory(Path.Combine(dir.Path, "lt")).FullName;

        await using (var libtorrent = await LibtorrentSwarmPeer.DownloadMagnetAsync(MagnetLink.FromManifest(manifest).ToString(), downloads, seeder.LocalEndPoint, cts.Token))
        {
            await libtorrent.WaitForCompletionAsync(Bound, cts.Token);
        }

        Assert.Equal(image, await File.ReadAllBytesAsync(Path.Combine(downloads, manifest.Name), cts.Token));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task BlockTorrentDeploysFromAMagnetLinkOffALibtorrentSeed(TorrentVersions versions)
    {
        using var dir = new TempDirectory();
        var (image, manifest, torrent) = await InteropImages.CreateAsync(dir, 5 * 1024 * 1024 + 4321, seed: 25, versions);
        await File.WriteAllBytesAsync(Path.Combine(dir.Path, manifest.Name), image, TestContext.Current.CancellationToken);
        using var cts = new CancellationTokenSource(Bound);
        await using var libtorrent = await LibtorrentSwarmPeer.SeedAsync(torrent, dir.Path, cts.Token);
        await using var deployer = new BlockTorrentClient(InteropImages.Loopback(), new TestOutputLoggerFactory());
        var target = new MemoryBlockDevice(manifest.Length);
        var magnet = MagnetLink.Parse($"{MagnetLink.FromManifest(manifest)}&x.pe=127.0.0.1:{libtorrent.Port}");

        DeploymentResult result = await deployer.DeployAsync(magnet, target, null, null, cts.Token);

        Assert.True(image.AsSpan().SequenceEqual(target.Contents.Span), $"the deployed image differs\n{libtorrent.Output}");
        Assert.Equal(0, result.HashFailures);
    }

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
}

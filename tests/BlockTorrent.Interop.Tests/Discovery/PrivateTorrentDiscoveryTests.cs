using System.Collections.Concurrent;
using System.Net;
using BlockTorrent.Devices;
using BlockTorrent.Discovery;
using BlockTorrent.Interop.Tests.Swarm;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using static BlockTorrent.Interop.Tests.Discovery.LinkedNamespaces;

namespace BlockTorrent.Interop.Tests.Discovery;

/// <summary>
/// BEP 27 end to end: a client with Local Service Discovery on announces its public torrents on the link and never
/// its private ones. The client lives in one namespace, an LSD listener in the other.
/// </summary>
public sealed class PrivateTorrentDiscoveryTests
{
    [Fact]
    public async Task AClientWithLocalDiscoveryNeverAnnouncesAPrivateTorrent()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using LinkedNamespaces link = await CreateAsync(ct);
        (byte[] privateImage, TorrentManifest privateTorrent) = await CreateImageAsync(isPrivate: true, seed: 51, ct);
        (byte[] publicImage, TorrentManifest publicTorrent) = await CreateImageAsync(isPrivate: false, seed: 52, ct);
        var heardPrivate = new ConcurrentQueue<IPEndPoint>();
        var heardPublic = new ConcurrentQueue<IPEndPoint>();
        await using LocalPeerDiscovery listener = link.B.Enter(() =>
        {
            var discovery = new LocalPeerDiscovery(Lsd("lsd1"));
            discovery.Start();
            return discovery;
        });
        using IDisposable r1 = listener.Register(privateTorrent.InfoHashV1!.Value, 7000, heardPrivate.Enqueue);
        using IDisposable r2 = listener.Register(publicTorrent.InfoHashV1!.Value, 7000, heardPublic.Enqueue);

        // Constructed inside namespace A, the client joins the LSD group on lsd0 there.
        var options = new BlockTorrentClientOptions { ListenEndPoint = new IPEndPoint(AddressA, 0), EnableLocalPeerDiscovery = true, LocalPeerDiscovery = Lsd("lsd0") };
        await using BlockTorrentClient client = link.A.Enter(() => new BlockTorrentClient(options, new TestOutputLoggerFactory()));
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);

        // The private torrent registers first: every announce round that carries the public one would carry it too.
        Task seedingPrivate = client.SeedAsync(privateTorrent, new MemoryBlockDevice(privateImage), null, cts.Token);
        Task seedingPublic = client.SeedAsync(publicTorrent, new MemoryBlockDevice(publicImage), null, cts.Token);
        await Eventually.TrueAsync(() => heardPublic.Count >= 2, TimeSpan.FromSeconds(20), "two announces of the public torrent", ct);

        Assert.Empty(heardPrivate);
        Assert.Contains(new IPEndPoint(AddressA, client.LocalEndPoint.Port), heardPublic);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seedingPrivate);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seedingPublic);
    }

    private static LocalPeerDiscoveryOptions Lsd(string networkInterface) => new()
    {
        Interfaces = { networkInterface },
        UseIPv6 = false,
        AnnounceInterval = TimeSpan.FromSeconds(1),
        MinAnnounceInterval = TimeSpan.FromMilliseconds(500),
    };

    private static async Task<(byte[] Image, TorrentManifest Manifest)> CreateImageAsync(bool isPrivate, int seed, CancellationToken ct)
    {
        byte[] image = new TestImage { Length = 512 * 1024, Seed = seed, BlockSize = InteropImages.PieceLength }.ToArray();
        var options = new ManifestBuilderOptions { PieceLength = InteropImages.PieceLength, Name = "image.raw", Versions = TorrentVersions.V1, IsPrivate = isPrivate };
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), options, ct);
        Assert.Equal(isPrivate, manifest.IsPrivate);
        return (image, manifest);
    }
}

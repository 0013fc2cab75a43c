using System.Net;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;

namespace BlockTorrent.Samples.Tests.Cli;

/// <summary>
/// A seed on loopback run with the library itself. Its torrent is registered when <see cref="Start"/> returns
/// (SeedAsync registers before its first await), so a command started next never meets a seed still starting.
/// </summary>
internal sealed class LibrarySeed : IAsyncDisposable
{
    private readonly BlockTorrentClient _client;
    private readonly IBlockDevice _source;
    private readonly CancellationTokenSource _stop;
    private readonly Task _seeding;

    private LibrarySeed(BlockTorrentClient client, IBlockDevice source, TorrentManifest manifest)
    {
        _client = client;
        _source = source;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        _seeding = client.SeedAsync(manifest, source, new SeedOptions(), _stop.Token);
    }

    /// <summary>Gets the address to give <c>--peer</c>.</summary>
    public string EndPoint => _client.LocalEndPoint.ToString();

    /// <summary>Seeds <paramref name="torrent"/> from <paramref name="source"/> (an image file's device by default), which the seed then owns.</summary>
    public static LibrarySeed Start(string torrent, string image, IBlockDevice? source = null, System.Security.Cryptography.X509Certificates.X509Certificate2? peerCertificate = null) =>
        new(
            new BlockTorrentClient(new BlockTorrentClientOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), EnableLocalPeerDiscovery = false, PeerCertificate = peerCertificate }),
            source ?? FileBlockDevice.Open(image, new FileBlockDeviceOptions { ReadOnly = true }),
            TorrentManifest.Load(torrent));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _seeding);
        await _client.DisposeAsync();
        await _source.DisposeAsync();
        _stop.Dispose();
    }
}

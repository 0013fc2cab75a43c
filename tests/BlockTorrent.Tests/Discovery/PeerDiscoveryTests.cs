using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Discovery;

/// <summary>The sources of one torrent working together, against our embedded tracker on loopback.</summary>
public sealed class PeerDiscoveryTests
{
    [Fact]
    public async Task TwoPeersFindEachOtherThroughTheirTracker()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using EmbeddedTracker tracker = await StartTrackerAsync(ct);
        InfoHash infoHash = new(RandomNumberGenerator.GetBytes(20));
        var foundBySeed = new ConcurrentQueue<IPEndPoint>();
        var foundByLeecher = new ConcurrentQueue<IPEndPoint>();

        await using PeerDiscovery seed = Create(infoHash, 7001, [tracker.AnnounceUri], [], left: 0);
        seed.Start((peers, _) => { foreach (IPEndPoint p in peers) { foundBySeed.Enqueue(p); } });
        await Eventually.TrueAsync(() => tracker.TorrentCount == 1, TimeSpan.FromSeconds(10), "the seed's announce", ct);
        await using PeerDiscovery leecher = Create(infoHash, 7002, [tracker.AnnounceUri], [], left: 100);
        leecher.Start((peers, _) => { foreach (IPEndPoint p in peers) { foundByLeecher.Enqueue(p); } });

        await Eventually.TrueAsync(() => foundByLeecher.Contains(new IPEndPoint(IPAddress.Loopback, 7001)), TimeSpan.FromSeconds(10), "the leecher to learn of the seed", ct);
    }

    [Fact]
    public async Task ATrackersPeersAreNamedByTheAddressItAnsweredFrom()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        IPAddress lan = Requires.LanAddress();

        foreach (IPAddress address in new[] { IPAddress.Loopback, lan })
        {
            await using var tracker = new EmbeddedTracker(new EmbeddedTrackerOptions { ListenEndPoint = new IPEndPoint(address, 0), AdvertisedHost = address.ToString() });
            await tracker.StartAsync(ct);
            InfoHash infoHash = new(RandomNumberGenerator.GetBytes(20));
            var namedBy = new ConcurrentQueue<IPAddress?>();
            await using PeerDiscovery seed = Create(infoHash, 7001, [tracker.AnnounceUri], [], left: 0);
            seed.Start((_, _) => { });
            await Eventually.TrueAsync(() => tracker.TorrentCount == 1, TimeSpan.FromSeconds(10), "the seed's announce", ct);
            await using PeerDiscovery leecher = Create(infoHash, 7002, [tracker.AnnounceUri], [], left: 100);

            leecher.Start((_, source) => namedBy.Enqueue(source));

            await Eventually.TrueAsync(() => !namedBy.IsEmpty, TimeSpan.FromSeconds(10), "the leecher to hear of the seed", ct);
            Assert.All(namedBy, source => Assert.Equal(address, source));
        }
    }

    [Fact]
    public async Task LeavingTellsTheTrackerStopped()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using EmbeddedTracker tracker = await StartTrackerAsync(ct);
        InfoHash infoHash = new(RandomNumberGenerator.GetBytes(20));
        PeerDiscovery seed = Create(infoHash, 7001, [tracker.AnnounceUri], [], left: 0);
        seed.Start((_, _) => { });
        await Eventually.TrueAsync(() => tracker.TorrentCount == 1, TimeSpan.FromSeconds(10), "the seed's announce", ct);

        await seed.DisposeAsync();

        Assert.Equal(0, tracker.TorrentCount);
    }

    [Fact]
    public async Task CompletionIsAnnouncedAtOnce()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using EmbeddedTracker tracker = await StartTrackerAsync(ct);
        InfoHash infoHash = new(RandomNumberGenerator.GetBytes(20));
        long left = 100;
        await using PeerDiscovery leecher = PeerDiscovery.Create(infoHash, RandomNumberGenerator.GetBytes(20), 7001, DiscoveryPolicy.For(false), [tracker.AnnounceUri], [], null, () => new TransferStats(0, 100 - left, left));
        leecher.Start((_, _) => { });
        await Eventually.TrueAsync(() => tracker.TorrentCount == 1, TimeSpan.FromSeconds(10), "the leecher's announce", ct);

        left = 0;
        leecher.NotifyCompleted();

        await Eventually.TrueAsync(() => tracker.Peers.TryScrape(infoHash, out ScrapeStats s) && s.Completed == 1 && s.Seeders == 1, TimeSpan.FromSeconds(10), "the completed announce", ct);
    }

    [Fact]
    public async Task ExplicitPeersAreReportedAtStart()
    {
        IPEndPoint[] given = [new(IPAddress.Parse("10.0.0.5"), 6881)];
        var found = new ConcurrentQueue<IPEndPoint>();
        await using PeerDiscovery discovery = Create(new InfoHash(RandomNumberGenerator.GetBytes(20)), 7001, [], given, left: 1);

        var sources = new ConcurrentQueue<IPAddress?>();

        discovery.Start((peers, source) => { sources.Enqueue(source); foreach (IPEndPoint p in peers) { found.Enqueue(p); } });

        Assert.Equal(given, found);
        Assert.Equal([null], sources);
    }

    [Fact]
    public async Task APrivateTorrentGetsNoLocalDiscoverySource()
    {
        await using var lsd = new LocalPeerDiscovery();
        await using PeerDiscovery discovery = PeerDiscovery.Create(
            new InfoHash(RandomNumberGenerator.GetBytes(20)), RandomNumberGenerator.GetBytes(20), 7001, DiscoveryPolicy.For(isPrivate: true),
            [new Uri("udp://127.0.0.1:1/announce"), new Uri("wss://tracker.example/announce")], [], lsd, () => default);

        Assert.False(discovery.Policy.AllowsPeerExchange);
        Assert.Equal(["udp://127.0.0.1:1/announce"], discovery.Sources.Select(s => s.Name));
    }

    [Fact]
    public async Task APublicTorrentUsesLocalDiscoveryWhenGivenIt()
    {
        await using var lsd = new LocalPeerDiscovery();
        await using PeerDiscovery discovery = PeerDiscovery.Create(
            new InfoHash(RandomNumberGenerator.GetBytes(20)), RandomNumberGenerator.GetBytes(20), 7001, DiscoveryPolicy.For(isPrivate: false), [], [], lsd, () => default);

        Assert.Equal(["local service discovery"], discovery.Sources.Select(s => s.Name));
    }

    private static PeerDiscovery Create(InfoHash infoHash, int port, Uri[] trackers, IPEndPoint[] peers, long left) =>
        PeerDiscovery.Create(infoHash, RandomNumberGenerator.GetBytes(20), port, DiscoveryPolicy.For(false), trackers, peers, null, () => new TransferStats(0, 0, left));

    private static async Task<EmbeddedTracker> StartTrackerAsync(CancellationToken ct)
    {
        var tracker = new EmbeddedTracker(new EmbeddedTrackerOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        await tracker.StartAsync(ct);
        return tracker;
    }
}

using System.Net;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;
using static BlockTorrent.Interop.Tests.Discovery.DiscoveryTestData;

namespace BlockTorrent.Interop.Tests.Discovery;

/// <summary>Our tracker clients against opentracker, a tracker nobody here wrote.</summary>
public sealed class OpenTrackerTests
{
    private static readonly TrackerClientOptions FastUdp = new() { UdpRetransmitTimeout = TimeSpan.FromSeconds(1), UdpMaxRetransmissions = 3 };

    [Fact]
    public async Task TwoUdpAnnouncesForOneTorrentSeeEachOther()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        InfoHash infoHash = RandomInfoHash();
        await using var tracker = await OpenTracker.StartAsync([infoHash], ct);
        using var seed = new UdpTrackerClient(tracker.UdpAnnounceUri, FastUdp);
        using var leecher = new UdpTrackerClient(tracker.UdpAnnounceUri, FastUdp);

        await seed.AnnounceAsync(Announce(infoHash, 40001, left: 0), ct);
        AnnounceResponse response = await leecher.AnnounceAsync(Announce(infoHash, 40002, left: 1000), ct);

        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 40001), response.Peers);
        Assert.Equal(1, response.Seeders);
        Assert.True(response.Interval > TimeSpan.Zero);
    }

    [Fact]
    public async Task UdpScrapeCountsTheSeedAndTheLeecher()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        InfoHash infoHash = RandomInfoHash();
        await using var tracker = await OpenTracker.StartAsync([infoHash], ct);
        using var client = new UdpTrackerClient(tracker.UdpAnnounceUri, FastUdp);
        await client.AnnounceAsync(Announce(infoHash, 40001, left: 0), ct);
        await client.AnnounceAsync(Announce(infoHash, 40002, left: 1000), ct);

        IReadOnlyDictionary<InfoHash, ScrapeStats> stats = await client.ScrapeAsync([infoHash], ct);

        Assert.Equal(1, stats[infoHash].Seeders);
        Assert.Equal(1, stats[infoHash].Leechers);
    }

    [Fact]
    public async Task OneUdpConnectionIdServesSeveralAnnounces()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        InfoHash infoHash = RandomInfoHash();
        await using var tracker = await OpenTracker.StartAsync([infoHash], ct);
        using var client = new UdpTrackerClient(tracker.UdpAnnounceUri, FastUdp);

        await client.AnnounceAsync(Announce(infoHash, 40001, left: 0), ct);
        await client.AnnounceAsync(Announce(infoHash, 40001, left: 0, AnnounceEvent.None), ct);

        Assert.Equal(3, client.DatagramsSent);
    }

    [Fact]
    public async Task TwoHttpAnnouncesForOneTorrentSeeEachOther()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        InfoHash infoHash = RandomInfoHash();
        await using var tracker = await OpenTracker.StartAsync([infoHash], ct);
        using var seed = new HttpTrackerClient(tracker.HttpAnnounceUri);
        using var leecher = new HttpTrackerClient(tracker.HttpAnnounceUri);

        await seed.AnnounceAsync(Announce(infoHash, 40001, left: 0), ct);
        AnnounceResponse response = await leecher.AnnounceAsync(Announce(infoHash, 40002, left: 1000), ct);

        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 40001), response.Peers);
        Assert.Equal((1, 1), (response.Seeders, response.Leechers));
        Assert.NotNull(response.MinInterval);
    }

    [Fact]
    public async Task HttpScrapeFollowsTheAnnounceAddressConvention()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        InfoHash infoHash = RandomInfoHash();
        await using var tracker = await OpenTracker.StartAsync([infoHash], ct);
        using var client = new HttpTrackerClient(tracker.HttpAnnounceUri);
        await client.AnnounceAsync(Announce(infoHash, 40001, left: 0), ct);

        IReadOnlyDictionary<InfoHash, ScrapeStats> stats = await client.ScrapeAsync([infoHash], ct);

        Assert.Equal(1, stats[infoHash].Seeders);
    }

    [Fact]
    public async Task ATorrentOpentrackerRefusesIsReportedAsItsFailureReason()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var tracker = await OpenTracker.StartAsync([RandomInfoHash()], ct);
        using var client = new HttpTrackerClient(tracker.HttpAnnounceUri);

        TrackerException e = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(Announce(RandomInfoHash(), 40001, left: 0), ct));

        Assert.True(e.IsFailureReason);
    }
}

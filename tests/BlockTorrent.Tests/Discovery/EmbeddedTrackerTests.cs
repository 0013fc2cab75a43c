using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;

namespace BlockTorrent.Tests.Discovery;

/// <summary>The embedded tracker on loopback, driven by our HTTP tracker client and by raw HTTP.</summary>
public sealed class EmbeddedTrackerTests
{
    [Fact]
    public async Task TwoPeersAnnouncingOneTorrentSeeEachOther()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using EmbeddedTracker tracker = await StartAsync();
        using var client = new HttpTrackerClient(tracker.AnnounceUri);
        InfoHash infoHash = RandomInfoHash();

        await client.AnnounceAsync(Announce(infoHash, 7001, left: 0), ct);
        AnnounceResponse response = await client.AnnounceAsync(Announce(infoHash, 7002, left: 10), ct);

        Assert.Equal([new IPEndPoint(IPAddress.Loopback, 7001)], response.Peers);
        Assert.Equal((1, 1), (response.Seeders, response.Leechers));
        Assert.Equal(TimeSpan.FromMinutes(2), response.Interval);
    }

    [Fact]
    public async Task AStoppedPeerIsNoLongerReturned()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using EmbeddedTracker tracker = await StartAsync();
        using var client = new HttpTrackerClient(tracker.AnnounceUri);
        InfoHash infoHash = RandomInfoHash();
        AnnounceRequest seed = Announce(infoHash, 7001, left: 0);
        await client.AnnounceAsync(seed, ct);

        await client.AnnounceAsync(seed with { Event = AnnounceEvent.Stopped }, ct);
        AnnounceResponse response = await client.AnnounceAsync(Announce(infoHash, 7002, left: 10), ct);

        Assert.Empty(response.Peers);
    }

    [Fact]
    public async Task ScrapeCountsSeedsLeechersAndCompletions()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using EmbeddedTracker tracker = await StartAsync();
        using var client = new HttpTrackerClient(tracker.AnnounceUri);
        InfoHash infoHash = RandomInfoHash();
        AnnounceRequest leecher = Announce(infoHash, 7001, left: 10);
        await client.AnnounceAsync(leecher, ct);
        await client.AnnounceAsync(leecher with { Left = 0, Event = AnnounceEvent.Completed }, ct);
        await client.AnnounceAsync(Announce(infoHash, 7002, left: 5), ct);

        IReadOnlyDictionary<InfoHash, ScrapeStats> stats = await client.ScrapeAsync([infoHash, RandomInfoHash()], ct);

        Assert.Equal(new ScrapeStats(Seeders: 1, Completed: 1, Leechers: 1), Assert.Single(stats).Value);
    }

    [Fact]
    public async Task NumWantBoundsThePeersReturned()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using EmbeddedTracker tracker = await StartAsync();
        using var client = new HttpTrackerClient(tracker.AnnounceUri);
        InfoHash infoHash = RandomInfoHash();
        for (int port = 7001; port <= 7010; port++)
        {
            await client.AnnounceAsync(Announce(infoHash, port, left: 0), ct);
        }

        AnnounceResponse response = await client.AnnounceAsync(Announce(infoHash, 7100, left: 1) with { NumWant = 3 }, ct);

        Assert.Equal(3, response.Peers.Count);
        Assert.Equal(3, response.Peers.Distinct().Count());
    }

    [Fact]
    public async Task TheNonCompactFormWithoutPeerIdsIsServedOnRequest()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using EmbeddedTracker tracker = await StartAsync();
        InfoHash infoHash = RandomInfoHash();
        using var client = new HttpTrackerClient(tracker.AnnounceUri);
        await client.AnnounceAsync(Announce(infoHash, 7001, left: 0), ct);

        string body = Encoding.ASCII.GetString(await RawGetAsync(tracker, $"/announce?info_hash={Escape(infoHash.Span)}&peer_id={new string('p', 20)}&port=7002&left=1&compact=0&no_peer_id=1", ct));

        Assert.Contains("5:peersld2:ip9:127.0.0.14:porti7001eee", body, StringComparison.Ordinal);
        Assert.DoesNotContain("peer id", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/announce?peer_id=pppppppppppppppppppp&port=1", "info_hash")]
    [InlineData("/announce?info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=short&port=1", "peer_id")]
    [InlineData("/announce?info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=pppppppppppppppppppp&port=0", "port")]
    [InlineData("/announce?info_hash=aaaaaaaaaaaaaaaaaaaa&peer_id=pppppppppppppppppppp&port=1&left=-1", "left")]
    public async Task AnAnnounceWithABadParameterGetsAFailureReasonNamingIt(string target, string parameter)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using EmbeddedTracker tracker = await StartAsync();

        string body = Encoding.ASCII.GetString(await RawGetAsync(tracker, target, ct));

        Assert.StartsWith("d14:failure reason", body, StringComparison.Ordinal);
        Assert.Contains(parameter, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATorrentOutsideTheAllowedSetIsRefused()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var options = new EmbeddedTrackerOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        options.AllowedInfoHashes.Add(RandomInfoHash());
        await using var tracker = new EmbeddedTracker(options);
        await tracker.StartAsync(ct);
        using var client = new HttpTrackerClient(tracker.AnnounceUri);

        TrackerException e = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(Announce(RandomInfoHash(), 7001, left: 0), ct));

        Assert.True(e.IsFailureReason);
    }

    [Theory]
    [InlineData("POST /announce HTTP/1.1\r\n\r\n", "405")]
    [InlineData("GET /elsewhere HTTP/1.1\r\n\r\n", "404")]
    [InlineData("nonsense\r\n\r\n", "400")]
    [InlineData("GET /announce?a=%zz HTTP/1.1\r\n\r\n", "400")]
    public async Task AMalformedRequestGetsAnHttpError(string request, string status)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using EmbeddedTracker tracker = await StartAsync();

        string response = Encoding.ASCII.GetString(await SendRawAsync(tracker, Encoding.ASCII.GetBytes(request), ct));

        Assert.StartsWith($"HTTP/1.1 {status} ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnOversizedRequestIsRefusedWithoutReadingItAll()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using EmbeddedTracker tracker = await StartAsync();

        string response = Encoding.ASCII.GetString(await SendRawAsync(tracker, Encoding.ASCII.GetBytes("GET /announce?" + new string('a', 20_000)), ct));

        Assert.StartsWith("HTTP/1.1 431 ", response, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASilentConnectionIsClosedAfterTheRequestTimeout()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var tracker = new EmbeddedTracker(new EmbeddedTrackerOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), RequestTimeout = TimeSpan.FromMilliseconds(200) });
        await tracker.StartAsync(ct);
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(tracker.LocalEndPoint, ct);

        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(TimeSpan.FromSeconds(10));
        int read = await socket.ReceiveAsync(new byte[16], SocketFlags.None, bound.Token);

        Assert.Equal(0, read);
    }

    [Fact]
    public void PeersThatStopAnnouncingExpire()
    {
        var time = new ManualTime();
        var table = new TrackerPeerTable(10, 10, 10, TimeSpan.FromMinutes(5), time);
        InfoHash infoHash = RandomInfoHash();
        table.Announce(infoHash, new IPEndPoint(IPAddress.Loopback, 1), new byte[20], 0, AnnounceEvent.Started, 0, [], out _);
        time.Advance(TimeSpan.FromMinutes(4));
        table.Announce(infoHash, new IPEndPoint(IPAddress.Loopback, 2), new byte[20], 0, AnnounceEvent.Started, 0, [], out _);
        time.Advance(TimeSpan.FromMinutes(2));

        var peers = new List<TrackedPeer>();
        table.Announce(infoHash, new IPEndPoint(IPAddress.Loopback, 3), new byte[20], 0, AnnounceEvent.Started, 10, peers, out _);

        Assert.Equal(2, Assert.Single(peers).EndPoint.Port);
    }

    [Fact]
    public void TheTableRefusesTorrentsBeyondItsBoundAndListsPeersUpToItsBound()
    {
        var table = new TrackerPeerTable(2, 3, 10, TimeSpan.FromMinutes(5), TimeProvider.System);
        Assert.True(table.Announce(RandomInfoHash(), new IPEndPoint(IPAddress.Loopback, 1), new byte[20], 0, AnnounceEvent.Started, 0, [], out _));
        Assert.True(table.Announce(RandomInfoHash(), new IPEndPoint(IPAddress.Loopback, 1), new byte[20], 0, AnnounceEvent.Started, 0, [], out _));
        Assert.False(table.Announce(RandomInfoHash(), new IPEndPoint(IPAddress.Loopback, 1), new byte[20], 0, AnnounceEvent.Started, 0, [], out _));

        InfoHash crowded = table.Torrents()[0];
        for (int port = 2; port < 10; port++)
        {
            table.Announce(crowded, new IPEndPoint(IPAddress.Loopback, port), new byte[20], 1, AnnounceEvent.Started, 0, [], out _);
        }

        Assert.True(table.TryScrape(crowded, out ScrapeStats stats));
        Assert.Equal(3, stats.Seeders + stats.Leechers);
    }

    private static async Task<EmbeddedTracker> StartAsync()
    {
        var tracker = new EmbeddedTracker(new EmbeddedTrackerOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        await tracker.StartAsync(TestContext.Current.CancellationToken);
        return tracker;
    }

    private static InfoHash RandomInfoHash() => new(RandomNumberGenerator.GetBytes(20));

    private static AnnounceRequest Announce(InfoHash infoHash, int port, long left) => new()
    {
        InfoHash = infoHash,
        PeerId = RandomNumberGenerator.GetBytes(20),
        Port = port,
        Left = left,
        Event = AnnounceEvent.Started,
    };

    private static string Escape(ReadOnlySpan<byte> bytes) => string.Concat(bytes.ToArray().Select(b => $"%{b:X2}"));

    private static Task<byte[]> RawGetAsync(EmbeddedTracker tracker, string target, CancellationToken ct) =>
        SendRawAsync(tracker, Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n"), ct).ContinueWith(t => BodyOf(t.Result), ct, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);

    private static byte[] BodyOf(byte[] response)
    {
        int end = response.AsSpan().IndexOf("\r\n\r\n"u8);
        return response[(end + 4)..];
    }

    private static async Task<byte[]> SendRawAsync(EmbeddedTracker tracker, byte[] request, CancellationToken ct)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(tracker.LocalEndPoint, ct);
        await socket.SendAsync(request, SocketFlags.None, ct);
        using var response = new MemoryStream();
        byte[] buffer = new byte[4096];
        int read;
        while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, ct)) > 0)
        {
            response.Write(buffer, 0, read);
        }

        return response.ToArray();
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
    }
}

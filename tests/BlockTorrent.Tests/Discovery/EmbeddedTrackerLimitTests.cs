using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;
using Microsoft.Extensions.Time.Testing;

namespace BlockTorrent.Tests.Discovery;

/// <summary>
/// What one hostile address on the LAN can do to the embedded tracker: every loopback address (127.0.0.0/8) is its
/// own source address here, so one test plays an attacker and an honest peer on two addresses.
/// </summary>
public sealed class EmbeddedTrackerLimitTests
{
    private static readonly IPAddress Attacker = IPAddress.Parse("127.0.0.1");
    private static readonly IPAddress Honest = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task AScrapeWithoutInfoHashesListsNoTorrent()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using EmbeddedTracker tracker = await StartAsync(new EmbeddedTrackerOptions());
        InfoHash infoHash = RandomInfoHash();
        Assert.Empty(FailureOf(await AnnounceAsync(tracker, Honest, infoHash, 7001, ct)) ?? string.Empty);

        byte[] body = await GetAsync(tracker, Attacker, "/scrape", ct);

        Assert.DoesNotContain(Convert.ToHexString(infoHash.Span), Convert.ToHexString(body), StringComparison.Ordinal);
        Assert.Contains("info_hash", FailureOf(body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OneAddressListsAtMostItsCapOfPeersInATorrent()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using EmbeddedTracker tracker = await StartAsync(new EmbeddedTrackerOptions { MaxPeersPerAddress = 4 });
        InfoHash infoHash = RandomInfoHash();
        for (int port = 7001; port <= 7040; port++)
        {
            await AnnounceAsync(tracker, Attacker, infoHash, port, ct);
        }

        await AnnounceAsync(tracker, Honest, infoHash, 7100, ct);
        byte[] body = await AnnounceAsync(tracker, IPAddress.Parse("127.0.0.3"), infoHash, 7200, ct, numWant: 200);

        IPEndPoint[] peers = PeersOf(body);
        Assert.Equal(4, peers.Count(p => p.Address.Equals(Attacker)));
        Assert.Contains(new IPEndPoint(Honest, 7100), peers);
    }

    [Fact]
    public async Task IdleConnectionsFromOneAddressDoNotLockOthersOutOfTheTracker()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var options = new EmbeddedTrackerOptions { MaxConnections = 64, RequestTimeout = TimeSpan.FromMinutes(5) };
        await using EmbeddedTracker tracker = await StartAsync(options);
        var idle = new List<Socket>();
        try
        {
            for (int i = 0; i < options.MaxConnections + 8; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                idle.Add(socket);
                socket.Bind(new IPEndPoint(Attacker, 0));
                await socket.ConnectAsync(tracker.LocalEndPoint, ct);
            }

            using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bound.CancelAfter(TimeSpan.FromSeconds(20));
            byte[] body = await AnnounceAsync(tracker, Honest, RandomInfoHash(), 7001, bound.Token);

            Assert.Null(FailureOf(body));
        }
        finally
        {
            idle.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task AnAddressThatAnnouncesTooOftenIsRefusedWhileOthersAreServed()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var options = new EmbeddedTrackerOptions { RequestBurstPerAddress = 10, RequestsPerAddressPerSecond = 1 };
        await using var tracker = new EmbeddedTracker(WithLoopback(options), timeProvider: time);
        await tracker.StartAsync(ct);
        InfoHash infoHash = RandomInfoHash();

        int refused = 0;
        for (int i = 0; i < 30; i++)
        {
            refused += FailureOf(await AnnounceAsync(tracker, Attacker, infoHash, 7001, ct)) is null ? 0 : 1;
        }

        byte[] honest = await AnnounceAsync(tracker, Honest, infoHash, 7002, ct);
        time.Advance(TimeSpan.FromSeconds(5));
        byte[] later = await AnnounceAsync(tracker, Attacker, infoHash, 7001, ct);

        Assert.Equal(20, refused);
        Assert.Null(FailureOf(honest));
        Assert.Null(FailureOf(later));
    }

    [Fact]
    public async Task ThisMachinesOwnPeersAreExemptFromThePerAddressLimits()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var options = new EmbeddedTrackerOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), MaxPeersPerAddress = 2, RequestBurstPerAddress = 2 };
        await using var tracker = new EmbeddedTracker(options);
        await tracker.StartAsync(ct);
        InfoHash infoHash = RandomInfoHash();
        for (int port = 7001; port <= 7005; port++)
        {
            Assert.Null(FailureOf(await AnnounceAsync(tracker, Attacker, infoHash, port, ct)));
        }

        byte[] body = await AnnounceAsync(tracker, Honest, infoHash, 7100, ct);

        Assert.Equal(5, PeersOf(body).Count(p => p.Address.Equals(Attacker)));
    }

    [Fact]
    public async Task AnOnlyAllowedTrackerRefusesEveryTorrentUntilOneIsAllowedAndAfterItIsRemoved()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using EmbeddedTracker tracker = await StartAsync(new EmbeddedTrackerOptions { OnlyAllowedTorrents = true });
        InfoHash image = RandomInfoHash();

        byte[] before = await AnnounceAsync(tracker, Honest, image, 7001, ct);
        tracker.AllowTorrent(image);
        byte[] allowed = await AnnounceAsync(tracker, Honest, image, 7001, ct);
        byte[] other = await AnnounceAsync(tracker, Attacker, RandomInfoHash(), 7002, ct);
        tracker.RemoveTorrent(image);
        byte[] after = await AnnounceAsync(tracker, Honest, image, 7001, ct);

        Assert.NotNull(FailureOf(before));
        Assert.Null(FailureOf(allowed));
        Assert.NotNull(FailureOf(other));
        Assert.NotNull(FailureOf(after));
        Assert.Equal(0, tracker.TorrentCount);
    }

    private static EmbeddedTrackerOptions WithLoopback(EmbeddedTrackerOptions options)
    {
        options.ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0);
        options.ExemptLoopback = false;
        return options;
    }

    private static async Task<EmbeddedTracker> StartAsync(EmbeddedTrackerOptions options)
    {
        var tracker = new EmbeddedTracker(WithLoopback(options));
        await tracker.StartAsync(TestContext.Current.CancellationToken);
        return tracker;
    }

    private static InfoHash RandomInfoHash() => new(RandomNumberGenerator.GetBytes(20));

    private static Task<byte[]> AnnounceAsync(EmbeddedTracker tracker, IPAddress from, InfoHash infoHash, int port, CancellationToken ct, int numWant = 50) =>
        GetAsync(tracker, from, $"/announce?info_hash={Escape(infoHash.Span)}&peer_id={Escape(RandomNumberGenerator.GetBytes(20))}&port={port}&left=1&compact=1&numwant={numWant}", ct);

    private static string Escape(ReadOnlySpan<byte> bytes) => string.Concat(bytes.ToArray().Select(b => $"%{b:X2}"));

    /// <summary>Sends one GET from a socket bound to <paramref name="from"/> and returns the response's body.</summary>
    private static async Task<byte[]> GetAsync(EmbeddedTracker tracker, IPAddress from, string target, CancellationToken ct)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(from, 0));
        await socket.ConnectAsync(tracker.LocalEndPoint, ct);
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {target} HTTP/1.1\r\nHost: tracker\r\n\r\n"), SocketFlags.None, ct);
        using var response = new MemoryStream();
        await using (var stream = new NetworkStream(socket, ownsSocket: false))
        {
            await stream.CopyToAsync(response, ct);
        }

        byte[] bytes = response.ToArray();
        int end = bytes.AsSpan().IndexOf("\r\n\r\n"u8);
        return end < 0 ? [] : bytes[(end + 4)..];
    }

    private static readonly Uri TrackerUri = new("http://tracker/announce");

    private static string? FailureOf(byte[] body)
    {
        if (body.Length == 0)
        {
            return "no response";
        }

        try
        {
            HttpTrackerResponse.ParseAnnounce(body, TrackerUri, 1000);
            return null;
        }
        catch (TrackerException e) when (e.IsFailureReason)
        {
            return e.Message;
        }
    }

    private static IPEndPoint[] PeersOf(byte[] body) => [.. HttpTrackerResponse.ParseAnnounce(body, TrackerUri, 1000).Peers];
}

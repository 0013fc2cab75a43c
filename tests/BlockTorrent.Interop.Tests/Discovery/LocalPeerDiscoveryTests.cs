using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using Microsoft.Extensions.Time.Testing;
using static BlockTorrent.Interop.Tests.Discovery.DiscoveryTestData;

namespace BlockTorrent.Interop.Tests.Discovery;

/// <summary>
/// Local Service Discovery (BEP 14) between two network namespaces joined by a veth pair: our instances with each
/// other, and with libtorrent. Each namespace is created for the test and deleted by name afterwards.
/// </summary>
public sealed class LocalPeerDiscoveryTests
{
    private static IPAddress AddressA => LinkedNamespaces.AddressA;

    private static IPAddress AddressB => LinkedNamespaces.AddressB;

    [Theory]
    [InlineData(AddressFamily.InterNetwork)]
    [InlineData(AddressFamily.InterNetworkV6)]
    public async Task TwoInstancesOnALinkFindEachOther(AddressFamily family)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var link = await LinkedNamespaces.CreateAsync(ct);
        InfoHash infoHash = RandomInfoHash();
        var foundByA = new ConcurrentQueue<IPEndPoint>();
        var foundByB = new ConcurrentQueue<IPEndPoint>();
        bool ipv4 = family == AddressFamily.InterNetwork;

        await using LocalPeerDiscovery a = Start(link.A, Options("lsd0", ipv4));
        await using LocalPeerDiscovery b = Start(link.B, Options("lsd1", ipv4));
        using IDisposable ra = a.Register(infoHash, 6881, foundByA.Enqueue);
        using IDisposable rb = b.Register(infoHash, 6882, foundByB.Enqueue);

        await BothFindEachOtherAsync(foundByA, foundByB, family, ct);
    }

    [Fact]
    public async Task InstancesSharingAnInterfaceIgnoreTheirOwnAnnounces()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var link = await LinkedNamespaces.CreateAsync(ct);
        InfoHash infoHash = RandomInfoHash();
        var foundByFirst = new ConcurrentQueue<IPEndPoint>();
        var foundBySecond = new ConcurrentQueue<IPEndPoint>();

        // Both share namespace A: each receives its own announces by multicast loopback, and the other's.
        await using LocalPeerDiscovery first = Start(link.A, Options("lsd0", ipv4: true));
        await using LocalPeerDiscovery second = Start(link.A, Options("lsd0", ipv4: true));
        using IDisposable r1 = first.Register(infoHash, 6881, foundByFirst.Enqueue);
        using IDisposable r2 = second.Register(infoHash, 6882, foundBySecond.Enqueue);
        await Eventually.TrueAsync(
            () => foundByFirst.Any(p => p.Port == 6882) && foundBySecond.Any(p => p.Port == 6881) && first.AnnounceRounds >= 2 && second.AnnounceRounds >= 2,
            TimeSpan.FromSeconds(20),
            "each instance to hear the other, twice",
            ct);

        Assert.DoesNotContain(foundByFirst, p => p.Port == 6881);
        Assert.DoesNotContain(foundBySecond, p => p.Port == 6882);
    }

    [Fact]
    public async Task OurListenerFindsLibtorrent()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        Requires.PythonLibtorrent();
        await using var link = await LinkedNamespaces.CreateAsync(ct);
        using var dir = new TempDirectory();
        (InfoHash infoHash, string torrent) = await LibtorrentPeer.MakeTorrentAsync(dir.Path, 64 * 1024, tracker: null, ct);
        var found = new ConcurrentQueue<IPEndPoint>();
        await using LocalPeerDiscovery ours = Start(link.A, Options("lsd0", ipv4: true));
        using IDisposable registration = ours.Register(infoHash, 6881, found.Enqueue);

        await using LibtorrentPeer libtorrent = await LibtorrentPeer.StartAsync("seed", dir.Path, torrent, $"{AddressB}:6890", lsd: true, link.B, ct);

        await Eventually.TrueAsync(() => found.Contains(new IPEndPoint(AddressB, 6890)), TimeSpan.FromSeconds(30), $"our LSD to hear libtorrent's announce; libtorrent said:\n{libtorrent.Output}", ct);
    }

    [Fact]
    public async Task LibtorrentFindsOurAnnounce()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        Requires.PythonLibtorrent();
        await using var link = await LinkedNamespaces.CreateAsync(ct);
        using var dir = new TempDirectory();
        (InfoHash infoHash, string torrent) = await LibtorrentPeer.MakeTorrentAsync(dir.Path, 64 * 1024, tracker: null, ct);

        // libtorrent (a downloader without the data) connects to the port we announce: accepting its handshake proves it found us.
        using Socket listener = link.A.Enter(() =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            socket.Bind(new IPEndPoint(AddressA, 0));
            socket.Listen();
            return socket;
        });
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        string downloadDir = Path.Combine(dir.Path, "download");
        Directory.CreateDirectory(downloadDir);
        await using LibtorrentPeer libtorrent = await LibtorrentPeer.StartAsync("download", downloadDir, torrent, $"{AddressB}:6890", lsd: true, link.B, ct);
        await using LocalPeerDiscovery ours = Start(link.A, Options("lsd0", ipv4: true));
        using IDisposable registration = ours.Register(infoHash, port, _ => { });

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        using Socket connection = await listener.AcceptAsync(timeout.Token);
        byte[] handshake = new byte[68];
        int read = 0;
        while (read < handshake.Length)
        {
            int n = await connection.ReceiveAsync(handshake.AsMemory(read), SocketFlags.None, timeout.Token);
            Assert.True(n > 0, $"libtorrent closed the connection after {read} bytes:\n{libtorrent.Output}");
            read += n;
        }

        Assert.Equal(infoHash.Truncated20.ToArray(), handshake.AsSpan(28, 20).ToArray());
        Assert.Equal(AddressB, ((IPEndPoint)connection.RemoteEndPoint!).Address);
    }

    [Fact]
    public async Task AnInstanceAnnouncesAgainOnceTheAnnounceIntervalHasPassedOnItsClock()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var link = await LinkedNamespaces.CreateAsync(ct);
        InfoHash infoHash = RandomInfoHash();
        var heardByB = new ConcurrentQueue<IPEndPoint>();
        var time = new FakeTimeProvider();
        LocalPeerDiscoveryOptions defaults = new() { Interfaces = { "lsd0" }, UseIPv6 = false };
        await using LocalPeerDiscovery a = Start(link.A, defaults, time);
        await using LocalPeerDiscovery b = Start(link.B, Options("lsd1", ipv4: true));
        using IDisposable rb = b.Register(infoHash, 6882, heardByB.Enqueue);

        using IDisposable ra = a.Register(infoHash, 6881, _ => { });
        await Eventually.TrueAsync(() => heardByB.Count(p => p.Port == 6881) == 1 && a.AnnounceRounds == 1, TimeSpan.FromSeconds(20), "b to hear a's first announce", ct);
        DateTimeOffset first = time.GetUtcNow();

        // The second round comes when the default interval (5 minutes) has passed on a's clock since the first,
        // however little real time that took and whenever a's loop came back to wait for it: a second short of it,
        // nothing; at it, the round.
        time.Advance(defaults.AnnounceInterval - TimeSpan.FromSeconds(1));
        Assert.Equal(1, a.AnnounceRounds);
        time.Advance(TimeSpan.FromSeconds(1));
        await Eventually.TrueAsync(() => a.AnnounceRounds == 2, TimeSpan.FromSeconds(20), "a's second round once the interval has passed on its clock", ct);

        Assert.Equal(defaults.AnnounceInterval, time.GetUtcNow() - first);
        await Eventually.TrueAsync(() => heardByB.Count(p => p.Port == 6881) == 2, TimeSpan.FromSeconds(20), "b to hear a's second announce", ct);
    }

    [Theory]
    [InlineData(AddressFamily.InterNetwork)]
    [InlineData(AddressFamily.InterNetworkV6)]
    public async Task AnInstanceStartedBeforeItsInterfaceHasAnAddressJoinsAtTheNextPeriodicScanAndBothPeersFindEachOther(AddressFamily family)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var link = await LinkedNamespaces.CreateWithoutAddressOnBAsync(ct);
        InfoHash infoHash = RandomInfoHash();
        var foundByA = new ConcurrentQueue<IPEndPoint>();
        var foundByB = new ConcurrentQueue<IPEndPoint>();
        bool ipv4 = family == AddressFamily.InterNetwork;

        // b's scans run on its own clock and the system's change notifications are off: only the periodic scan can join.
        var time = new FakeTimeProvider();
        LocalPeerDiscoveryOptions late = Options("lsd1", ipv4);
        await using LocalPeerDiscovery b = StartWithoutInterface(link.B, late, time);
        using IDisposable rb = b.Register(infoHash, 6882, foundByB.Enqueue);
        Assert.Empty(b.ActiveInterfaces);

        await link.AddAddressOnBAsync(family, ct);
        await using LocalPeerDiscovery a = Start(link.A, Options("lsd0", ipv4));
        using IDisposable ra = a.Register(infoHash, 6881, foundByA.Enqueue);
        int scans = b.InterfaceScans;
        time.Advance(late.InterfaceRescanInterval);
        await Eventually.TrueAsync(() => b.InterfaceScans > scans, TimeSpan.FromSeconds(20), "b to scan its interfaces once its period has passed", ct);

        Assert.Equal([$"lsd1 ({family})"], b.ActiveInterfaces);
        await BothFindEachOtherAsync(foundByA, foundByB, family, ct);
    }

    [Fact]
    public async Task AnInterfaceThatLosesItsAddressIsLeftAtTheNextScanAndJoinedAgainWhenTheAddressReturns()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var link = await LinkedNamespaces.CreateWithoutAddressOnBAsync(ct);
        await link.AddAddressOnBAsync(AddressFamily.InterNetwork, ct);
        var time = new FakeTimeProvider();
        LocalPeerDiscoveryOptions options = Options("lsd1", ipv4: true);
        await using LocalPeerDiscovery b = StartWithoutInterface(link.B, options, time);
        Assert.Equal(["lsd1 (InterNetwork)"], b.ActiveInterfaces);

        await link.RemoveAddressOnBAsync(ct);
        await ScanAsync(b, time, options, ct);
        Assert.Empty(b.ActiveInterfaces);

        await link.AddAddressOnBAsync(AddressFamily.InterNetwork, ct);
        await ScanAsync(b, time, options, ct);
        Assert.Equal(["lsd1 (InterNetwork)"], b.ActiveInterfaces);
    }

    /// <summary>Waits until a (port 6881 on <c>lsd0</c>) and b (port 6882 on <c>lsd1</c>) have each reported the other over <paramref name="family"/>.</summary>
    private static Task BothFindEachOtherAsync(ConcurrentQueue<IPEndPoint> foundByA, ConcurrentQueue<IPEndPoint> foundByB, AddressFamily family, CancellationToken ct)
    {
        // Over IPv6 the sender's address is its link-local one, which the test does not know in advance.
        bool ipv4 = family == AddressFamily.InterNetwork;
        return Eventually.TrueAsync(
            () => foundByA.Any(p => p.Port == 6882 && p.AddressFamily == family && (!ipv4 || p.Address.Equals(AddressB)))
                && foundByB.Any(p => p.Port == 6881 && p.AddressFamily == family && (!ipv4 || p.Address.Equals(AddressA))),
            TimeSpan.FromSeconds(20),
            "both instances to report the other",
            ct);
    }

    /// <summary>Advances <paramref name="time"/> by one scan period and waits for the scan it triggers to finish.</summary>
    private static async Task ScanAsync(LocalPeerDiscovery discovery, FakeTimeProvider time, LocalPeerDiscoveryOptions options, CancellationToken ct)
    {
        int scans = discovery.InterfaceScans;
        time.Advance(options.InterfaceRescanInterval);
        await Eventually.TrueAsync(() => discovery.InterfaceScans > scans, TimeSpan.FromSeconds(20), "a scan once the period has passed", ct);
    }

    /// <summary>Starts an instance in <paramref name="ns"/> that scans only on <paramref name="time"/>'s period, whether or not it joined anything.</summary>
    private static LocalPeerDiscovery StartWithoutInterface(NetworkNamespace ns, LocalPeerDiscoveryOptions options, TimeProvider time) => ns.Enter(() =>
    {
        var discovery = new LocalPeerDiscovery(options, null, time) { WatchNetworkChanges = false };
        discovery.Start();
        return discovery;
    });

    private static LocalPeerDiscoveryOptions Options(string networkInterface, bool ipv4) => new()
    {
        Interfaces = { networkInterface },
        UseIPv4 = ipv4,
        UseIPv6 = !ipv4,
        AnnounceInterval = TimeSpan.FromSeconds(1),
        MinAnnounceInterval = TimeSpan.FromMilliseconds(500),
    };

    private static LocalPeerDiscovery Start(NetworkNamespace ns, LocalPeerDiscoveryOptions options, TimeProvider? time = null) => ns.Enter(() =>
    {
        var discovery = new LocalPeerDiscovery(options, null, time);
        discovery.Start();
        Assert.NotEmpty(discovery.ActiveInterfaces);
        return discovery;
    });
}

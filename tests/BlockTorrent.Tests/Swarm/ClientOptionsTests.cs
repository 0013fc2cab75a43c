using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace BlockTorrent.Tests.Swarm;

public sealed class ClientOptionsTests
{
    [Fact]
    public void AnOutOfRangeSettingIsRejectedByName()
    {
        var options = new BlockTorrentClientOptions { MaxRequestQueueDepth = 0 };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(nameof(BlockTorrentClientOptions.MaxRequestQueueDepth), error.ParamName);
    }

    [Fact]
    public void ALongPeerIdPrefixIsRejected()
    {
        var options = new BlockTorrentClientOptions { PeerIdPrefix = "-THIS-IS-TOO-LONG-" };
        Assert.Throws<ArgumentException>(options.Validate);
    }

    [Theory]
    [InlineData("")]
    [InlineData("cubic; rm -rf /")]
    [InlineData("a_name_longer_than_15")]
    public void AMalformedCongestionControlNameIsRejectedByName(string name)
    {
        var options = new BlockTorrentClientOptions { TcpCongestionControl = name };
        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Equal(nameof(BlockTorrentClientOptions.TcpCongestionControl), error.ParamName);
    }

    [Fact]
    public void PeerSocketsUseTheConfiguredCongestionControl()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "TCP congestion control by name is a Linux socket option.");

        // reno is built into every Linux kernel; the option applies to the sockets we dial with.
        using var socket = BlockTorrent.Swarm.PeerSockets.Create(System.Net.Sockets.AddressFamily.InterNetwork, "reno");
        Assert.Equal("reno", BlockTorrent.Swarm.PeerSockets.GetCongestionControl(socket));
        Assert.True(socket.NoDelay);
    }

    [Fact]
    public async Task ConnectionsTheListenerAcceptsInheritItsCongestionControl()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "TCP congestion control by name is a Linux socket option.");
        CancellationToken ct = TestContext.Current.CancellationToken;

        // The client sets the algorithm on its listener only; Linux carries it over to each accepted connection.
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        BlockTorrent.Swarm.PeerSockets.SetCongestionControl(listener, "reno");
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var dialler = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await dialler.ConnectAsync(listener.LocalEndPoint!, ct);
        using var accepted = await listener.AcceptAsync(ct);

        Assert.Equal("reno", BlockTorrent.Swarm.PeerSockets.GetCongestionControl(accepted));
    }

    [Fact]
    public async Task AnAlgorithmTheKernelDoesNotOfferFailsTheClientWithTheOnesItDoes()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "TCP congestion control by name is a Linux socket option.");
        var options = new BlockTorrentClientOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), TcpCongestionControl = "nosuchcc" };
        var error = Assert.Throws<InvalidOperationException>(() => new BlockTorrentClient(options));
        Assert.Contains("'nosuchcc'", error.Message, StringComparison.Ordinal);
        Assert.Contains("reno", error.Message, StringComparison.Ordinal);

        // The failed construction left its port free: a client with a valid algorithm starts.
        options.TcpCongestionControl = "reno";
        await using var client = new BlockTorrentClient(options);
        Assert.NotEqual(0, client.LocalEndPoint.Port);
    }

    [Fact]
    public void LocalServiceDiscoveryIsOffByDefault() =>
        Assert.False(new BlockTorrentClientOptions().EnableLocalPeerDiscovery);

    [Fact]
    public void InvalidLocalDiscoveryOptionsAreRejectedWithTheClientOptions()
    {
        var options = new BlockTorrentClientOptions { LocalPeerDiscovery = new() { TimeToLive = 0 } };
        var error = Assert.ThrowsAny<ArgumentException>(options.Validate);
        Assert.Equal(nameof(BlockTorrent.Discovery.LocalPeerDiscoveryOptions.TimeToLive), error.ParamName);
    }

    [Fact]
    public async Task TheClientUsesThePeerIdPrefixAndBindsItsPort()
    {
        await using var client = new BlockTorrentClient(new BlockTorrentClientOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), PeerIdPrefix = "-XX0001-" });
        Assert.StartsWith("-XX0001-", System.Text.Encoding.ASCII.GetString(client.PeerId.Span));
        Assert.Equal(20, client.PeerId.Length);
        Assert.NotEqual(0, client.LocalEndPoint.Port);
    }

    [Fact]
    public async Task AddBlockTorrentRegistersOneConfiguredClient()
    {
        var services = new ServiceCollection();
        services.AddBlockTorrent(o => o.ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0));
        await using ServiceProvider provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<BlockTorrentClient>();
        Assert.Same(client, provider.GetRequiredService<BlockTorrentClient>());
        Assert.Equal(IPAddress.Loopback, client.LocalEndPoint.Address);
    }
}

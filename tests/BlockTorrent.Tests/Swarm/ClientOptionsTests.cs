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

using System.Net.Sockets;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Swarm;

public sealed class ConnectionListenerTests
{
    [Fact]
    public async Task AClientHangsUpOnAHandshakeForATorrentItDoesNotServe()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var client = new BlockTorrentClient(SwarmTestImages.Loopback());
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(client.LocalEndPoint, ct);
        byte[] handshake = new byte[PeerHandshake.Size];
        new PeerHandshake(PeerHandshake.DefaultFeatures, new byte[20], PeerIds.Create()).WriteTo(handshake);

        await socket.SendAsync(handshake, ct);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        Assert.Equal(0, await socket.ReceiveAsync(new byte[PeerHandshake.Size], timeout.Token));
    }
}

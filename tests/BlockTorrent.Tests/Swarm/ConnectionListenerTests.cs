using System.Net.Sockets;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Swarm;
using BlockTorrent.Wire;
using Microsoft.Extensions.Time.Testing;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// What the client does with connections before their handshake: it hangs up on torrents it does not serve, gives a
/// silent connection <see cref="ConnectionListener.HandshakeTimeout"/> on its own clock, and holds at most
/// <see cref="ConnectionListener.MaxPendingHandshakes"/> such connections, so a flood of idle sockets costs little.
/// </summary>
public sealed class ConnectionListenerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task AClientHangsUpOnAHandshakeForATorrentItDoesNotServe()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using var client = new BlockTorrentClient(SwarmTestImages.Loopback());
        using var socket = await ConnectAsync(client, ct);
        byte[] handshake = new byte[PeerHandshake.Size];
        new PeerHandshake(PeerHandshake.DefaultFeatures, new byte[20], PeerIds.Create()).WriteTo(handshake);

        await socket.SendAsync(handshake, ct);

        Assert.Equal(0, await ReceiveBoundedAsync(socket, ct));
    }

    [Fact]
    public async Task AConnectionThatNeverSendsAHandshakeIsClosedOnceTheHandshakeTimeoutHasPassed()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        await using var client = new BlockTorrentClient(SwarmTestImages.Loopback(), null, time);
        using var socket = await ConnectAsync(client, ct);
        DateTimeOffset connected = time.GetUtcNow();
        Task<int> closed = socket.ReceiveAsync(new byte[1], ct).AsTask();

        await FakeClock.AdvanceUntilAsync(time, closed, TimeSpan.FromMinutes(1), ct);

        Assert.Equal(0, await closed);
        TimeSpan after = time.GetUtcNow() - connected;
        Assert.True(after >= ConnectionListener.HandshakeTimeout, $"closed after {after}, before the handshake timeout of {ConnectionListener.HandshakeTimeout}");
    }

    [Fact]
    public async Task ConnectionsBeyondThePendingLimitAreClosedAtOnceAndAPeerIsServedAgainOnceTheSilentOnesTimeOut()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider();
        var (image, manifest) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 5, TorrentVersions.V1);
        await using var client = new BlockTorrentClient(SwarmTestImages.Loopback(), null, time);
        using var seeding = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Task seed = client.SeedAsync(manifest, new MemoryBlockDevice(image), new SeedOptions(), seeding.Token);
        var silent = new List<Socket>();
        try
        {
            for (int i = 0; i < ConnectionListener.MaxPendingHandshakes; i++)
            {
                silent.Add(await ConnectAsync(client, ct));
            }

            // The listener accepts in arrival order, so this one finds every pending slot taken by a silent socket.
            using (Socket extra = await ConnectAsync(client, ct))
            {
                Assert.Equal(0, await ReceiveBoundedAsync(extra, ct));
            }

            Task allClosed = Task.WhenAll(silent.Select(s => s.ReceiveAsync(new byte[1], ct).AsTask()));
            await FakeClock.AdvanceUntilAsync(time, allClosed, TimeSpan.FromMinutes(1), ct);

            using Socket peer = await ConnectAsync(client, ct);
            byte[] ours = new byte[PeerHandshake.Size];
            new PeerHandshake(PeerHandshake.DefaultFeatures, (manifest.InfoHashV1 ?? manifest.InfoHashV2)!.Value.Truncated20, PeerIds.Create()).WriteTo(ours);
            await peer.SendAsync(ours, ct);
            using var stream = new NetworkStream(peer, ownsSocket: false);
            byte[] theirs = new byte[PeerHandshake.Size];
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
            bounded.CancelAfter(Bound);
            await stream.ReadExactlyAsync(theirs, bounded.Token);
            Assert.True(PeerHandshake.TryParse(theirs) is { } reply && reply.InfoHash.SequenceEqual(ours.AsSpan(28, 20)), "the client answered with the torrent's handshake");
        }
        finally
        {
            foreach (Socket s in silent)
            {
                s.Dispose();
            }

            await seeding.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seed);
        }
    }

    private static async Task<Socket> ConnectAsync(BlockTorrentClient client, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(client.LocalEndPoint, ct);
        return socket;
    }

    // What the client sends before it hangs up, within a real-time bound (0 bytes: it hung up).
    private static async Task<int> ReceiveBoundedAsync(Socket socket, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Bound);
        return await socket.ReceiveAsync(new byte[PeerHandshake.Size], timeout.Token);
    }
}

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using BlockTorrent.Testing;
using BlockTorrent.Wire;
using Microsoft.Extensions.Time.Testing;

namespace BlockTorrent.Tests.Wire;

public sealed class PeerConnectionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task RequestedBlocksTravelOverLoopbackIntoTheSinksBuffer()
    {
        await using LoopbackPair pair = await LoopbackPair.ConnectAsync();
        byte[] image = new byte[4 * 2 * MessageReader.BlockSize];
        Random.Shared.NextBytes(image);
        var seeder = new RecordingPeer
        {
            Interested = c => _ = c.SendAsync(MessageId.Unchoke).AsTask(),
            Requested = (c, b) => _ = c.SendPieceAsync(b.Piece, b.Offset, image.AsMemory((b.Piece * 2 * MessageReader.BlockSize) + b.Offset, b.Length)).AsTask(),
        };
        BlockRequest[] blocks = [.. Enumerable.Range(0, 8).Select(i => new BlockRequest(i / 2, i % 2 * MessageReader.BlockSize, MessageReader.BlockSize))];
        var leecher = new RecordingPeer { Unchoked = c => _ = c.SendRequestsAsync(blocks).AsTask() };
        foreach (BlockRequest block in blocks)
        {
            leecher.Expect(block.Piece, block.Offset);
        }

        pair.Server.PieceCount = pair.Client.PieceCount = 4;
        pair.Start(seeder, leecher);
        Assert.True(await pair.Server.SendBitfieldAsync(new byte[] { 0xF0 }, TestContext.Current.CancellationToken));
        Assert.True(await pair.Client.SendAsync(MessageId.Interested, TestContext.Current.CancellationToken));

        await Eventually.TrueAsync(() => pair.Client.BlocksReceived == 8, Bound, "all 8 blocks", TestContext.Current.CancellationToken);
        Assert.Equal(image, leecher.Data);
        Assert.Equal("bitfield f0", leecher.Events[0]);
        Assert.Equal(0, pair.Client.UnsolicitedBlocks);
    }

    [Fact]
    public async Task TheExtendedHandshakeAdvertisesAReqqOf2000AndTheExtensionIds()
    {
        await using LoopbackPair pair = await LoopbackPair.ConnectAsync();
        (RecordingPeer server, RecordingPeer client) = pair.Start();

        Assert.True(await pair.Server.SendExtendedHandshakeAsync(ExtensionHandshake.CreateLocal(6881, 1234, IPAddress.Loopback), TestContext.Current.CancellationToken));

        await Eventually.TrueAsync(() => client.Saw("extended handshake BlockTorrent 0.1.0 reqq 2000 metadata_size 1234"), Bound, "the extended handshake", TestContext.Current.CancellationToken);
        Assert.True(pair.Client.SupportsMetadataExchange);
        Assert.True(pair.Client.SupportsPeerExchange);
        Assert.Equal(ExtensionHandshake.LocalUtMetadataId, pair.Client.RemoteExtensions!.GetExtensionId("ut_metadata"));
        Assert.Equal(6881, pair.Client.RemoteExtensions.ListenPort);
        Assert.Equal(IPAddress.Loopback, pair.Client.RemoteExtensions.YourIp);
    }

    [Fact]
    public async Task MetadataPiecesTravelUnderTheIdsEachSideAdvertised()
    {
        await using LoopbackPair pair = await LoopbackPair.ConnectAsync();
        byte[] info = [1, 2, 3, 4, 5];
        var server = new RecordingPeer
        {
            Metadata = (c, m) => _ = c.SendMetadataAsync(MetadataMessageType.Data, m.Piece, info.Length, info).AsTask(),
        };
        (_, RecordingPeer client) = pair.Start(server);
        await pair.Server.SendExtendedHandshakeAsync(ExtensionHandshake.CreateLocal(null, info.Length, null), TestContext.Current.CancellationToken);
        await pair.Client.SendExtendedHandshakeAsync(ExtensionHandshake.CreateLocal(null, null, null), TestContext.Current.CancellationToken);
        await Eventually.TrueAsync(() => pair.Client.SupportsMetadataExchange, Bound, "the server's extended handshake", TestContext.Current.CancellationToken);

        Assert.True(await pair.Client.SendMetadataAsync(MetadataMessageType.Request, 0, 0, default, TestContext.Current.CancellationToken));

        await Eventually.TrueAsync(() => client.Saw("metadata Data 0 5 0102030405"), Bound, "the metadata piece", TestContext.Current.CancellationToken);
        Assert.Contains("metadata Request 0 0 ", server.Events);
    }

    [Fact]
    public async Task PexMessagesCarryIpv4AndIpv6PeersWithTheirFlags()
    {
        await using LoopbackPair pair = await LoopbackPair.ConnectAsync();
        (RecordingPeer server, RecordingPeer client) = pair.Start();
        await pair.Client.SendExtendedHandshakeAsync(ExtensionHandshake.CreateLocal(null, null, null), TestContext.Current.CancellationToken);
        await Eventually.TrueAsync(() => pair.Server.SupportsPeerExchange, Bound, "the client's extended handshake", TestContext.Current.CancellationToken);
        var pex = new PexMessage();
        pex.Added.Add(new PexPeer(IPEndPoint.Parse("10.1.2.3:6881"), PexFlags.Seed | PexFlags.Reachable));
        pex.Added.Add(new PexPeer(IPEndPoint.Parse("[fd00::1]:51413"), PexFlags.Utp));
        pex.Dropped.Add(new PexPeer(IPEndPoint.Parse("10.9.9.9:1"), PexFlags.None));

        Assert.True(await pair.Server.SendPexAsync(pex, TestContext.Current.CancellationToken));

        await Eventually.TrueAsync(() => client.Saw("pex +10.1.2.3:6881/Seed, Reachable,[fd00::1]:51413/Utp -10.9.9.9:1"), Bound, "the pex message", TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AnUnsolicitedBlockIsDroppedAndCountedAndTheConnectionStaysOpen()
    {
        await using LoopbackPair pair = await LoopbackPair.ConnectAsync();
        (RecordingPeer server, RecordingPeer client) = pair.Start();

        await pair.Server.SendPieceAsync(0, 0, new byte[100], TestContext.Current.CancellationToken);
        await pair.Server.SendPieceIndexAsync(MessageId.Have, 1, TestContext.Current.CancellationToken);

        await Eventually.TrueAsync(() => client.Saw("have 1"), Bound, "the have after the block", TestContext.Current.CancellationToken);
        Assert.Equal(1, pair.Client.UnsolicitedBlocks);
        Assert.Equal(0, pair.Client.BlocksReceived);
        Assert.False(pair.Client.IsClosed);
    }

    [Fact]
    public async Task AProtocolErrorClosesTheConnectionCleanlyWithTheReason()
    {
        var server = new RecordingPeer();
        var acceptor = new SingleAcceptor(server);
        await using var listener = new PeerListener(new IPEndPoint(IPAddress.Loopback, 0), acceptor);
        listener.Start();
        using var raw = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await raw.ConnectAsync(listener.LocalEndPoint, TestContext.Current.CancellationToken);
        byte[] handshake = new byte[PeerHandshake.Size];
        new PeerHandshake(PeerHandshake.DefaultFeatures, LoopbackPair.InfoHash, PeerIds.Create()).WriteTo(handshake);
        await raw.SendAsync(handshake, TestContext.Current.CancellationToken);
        await PeerConnection.ReceiveExactlyAsync(raw, handshake, TestContext.Current.CancellationToken);
        PeerConnection connection = await acceptor.Accepted.WaitAsync(Bound, TestContext.Current.CancellationToken);

        byte[] hostile = new byte[9];
        BinaryPrimitives.WriteUInt32BigEndian(hostile, 0x7FFF_FFF0);
        hostile[4] = (byte)MessageId.Piece;
        await raw.SendAsync(hostile, TestContext.Current.CancellationToken);

        await server.Closed.WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal(PeerCloseReason.ProtocolError, connection.CloseReason);
        Assert.Equal(WireError.MessageTooLong, connection.ProtocolError);
        Assert.Equal("closed ProtocolError", Assert.Single(server.Events));
    }

    [Fact]
    public async Task TheListenerRefusesAHandshakeForATorrentItDoesNotServe()
    {
        await using LoopbackPair pair = await LoopbackPair.ConnectAsync();
        var other = new PeerHandshake(PeerHandshake.DefaultFeatures, new byte[20], PeerIds.Create());

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => PeerConnection.ConnectAsync(pair.Listener.LocalEndPoint, other, cancellationToken: TestContext.Current.CancellationToken));

        Assert.True(error is PeerProtocolException or SocketException, error.ToString());
    }

    [Fact]
    public async Task ClosingOneSideClosesTheOtherAndLaterSendsReturnFalse()
    {
        await using LoopbackPair pair = await LoopbackPair.ConnectAsync();
        (RecordingPeer server, RecordingPeer client) = pair.Start();

        pair.Client.Close();

        await server.Closed.WaitAsync(Bound, TestContext.Current.CancellationToken);
        await client.Closed.WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal(PeerCloseReason.RemoteClosed, pair.Server.CloseReason);
        Assert.Equal(PeerCloseReason.Local, pair.Client.CloseReason);
        Assert.False(await pair.Client.SendAsync(MessageId.Interested, TestContext.Current.CancellationToken));
        Assert.False(await pair.Server.SendAsync(MessageId.Interested, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task AQuietConnectionSendsAKeepAliveAfterTheKeepAliveInterval()
    {
        var time = new FakeTimeProvider();
        var options = new PeerConnectionOptions { TimeProvider = time };
        await using LoopbackPair pair = await LoopbackPair.ConnectAsync(options);
        (RecordingPeer server, RecordingPeer client) = pair.Start();

        time.Advance(options.KeepAliveInterval + (options.KeepAliveInterval / 4));

        await Eventually.TrueAsync(() => pair.Server.BytesReceived == 4 && pair.Client.BytesReceived == 4, Bound, "a 4-byte keep-alive each way", TestContext.Current.CancellationToken);
        Assert.False(pair.Server.IsClosed);
        Assert.Empty(server.Events);
    }

    [Fact]
    public async Task APeerThatSendsNothingIsDisconnectedAfterTheIdleTimeout()
    {
        var time = new FakeTimeProvider();
        var options = new PeerConnectionOptions { TimeProvider = time, KeepAliveInterval = TimeSpan.FromHours(1), IdleTimeout = TimeSpan.FromSeconds(30) };
        await using LoopbackPair pair = await LoopbackPair.ConnectAsync(options);
        (RecordingPeer server, RecordingPeer client) = pair.Start();

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(pair.Server.IsClosed);
        time.Advance(TimeSpan.FromSeconds(10));

        await server.Closed.WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal(PeerCloseReason.IdleTimeout, pair.Server.CloseReason);
    }

    [Fact]
    public async Task AHandlerThatThrowsClosesOnlyItsConnection()
    {
        await using LoopbackPair pair = await LoopbackPair.ConnectAsync();
        var server = new RecordingPeer { Interested = _ => throw new InvalidOperationException("swarm bug") };
        (_, RecordingPeer client) = pair.Start(server);

        await pair.Client.SendAsync(MessageId.Interested, TestContext.Current.CancellationToken);

        await server.Closed.WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal(PeerCloseReason.HandlerFailed, pair.Server.CloseReason);
        Assert.IsType<InvalidOperationException>(pair.Server.CloseException);
    }

    private sealed class SingleAcceptor(RecordingPeer peer) : IIncomingPeerHandler
    {
        private readonly TaskCompletionSource<PeerConnection> _accepted = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task<PeerConnection> Accepted => _accepted.Task;

        public PeerHandshake? GetHandshake(ReadOnlySpan<byte> infoHash, HandshakeFeatures remoteFeatures) =>
            new(PeerHandshake.DefaultFeatures, infoHash, PeerIds.Create());

        public void OnAccepted(PeerConnection connection)
        {
            connection.Start(peer, peer);
            _accepted.TrySetResult(connection);
        }
    }
}

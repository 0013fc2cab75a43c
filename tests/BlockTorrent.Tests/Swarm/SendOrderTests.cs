using BlockTorrent.Manifest;
using BlockTorrent.Swarm;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Swarm;

public sealed class SendOrderTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task AnAnswerToARequestDoesNotWaitBehindThePieceDataThePeerAskedForEarlier()
    {
        // 2040 blocks (32 MB) asked for at once, far more than the socket buffers hold, then one request we must refuse:
        // the reject is a control message, so it overtakes the piece data still queued behind the socket.
        var (image, manifest) = await SwarmTestImages.CreateAsync(32 * 1024 * 1024, seed: 61, TorrentVersions.V1, pieceLength: 256 * 1024);
        int blocksBeforeReject = -1;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var peer = new HostilePeer(manifest, async (c, ct) =>
        {
            await c.SendAsync(w => MessageWriter.WriteSimple(w, MessageId.Interested), ct);
            await c.ReadUntilAsync(MessageId.Unchoke, ct);
            await c.SendAsync(
                w =>
                {
                    for (int piece = 0; piece < manifest.PieceCount - 1; piece++)
                    {
                        for (int offset = 0; offset < manifest.PieceLength; offset += PiecePicker.BlockSize)
                        {
                            MessageWriter.WriteBlock(w, MessageId.Request, new BlockRequest(piece, offset, PiecePicker.BlockSize));
                        }
                    }

                    // Past the end of the piece: refused.
                    MessageWriter.WriteBlock(w, MessageId.Request, new BlockRequest(0, manifest.PieceLength, PiecePicker.BlockSize));
                },
                ct);

            int blocks = 0;
            while (true)
            {
                (MessageId id, _) = await c.ReadMessageAsync(ct);
                if (id == MessageId.Piece)
                {
                    blocks++;
                }
                else if (id == MessageId.RejectRequest)
                {
                    blocksBeforeReject = blocks;
                    done.TrySetResult();
                    await c.ServeAsync(null, ct);
                }
            }
        });

        await SwarmTestImages.SeedToAsync(image, manifest, peer.EndPoint, ct => done.Task.WaitAsync(ct), Bound);

        int asked = (manifest.PieceCount - 1) * (manifest.PieceLength / PiecePicker.BlockSize);
        Assert.InRange(blocksBeforeReject, 0, asked / 2);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100_000)]
    [InlineData(750_000)]
    [InlineData(6_000_000)]
    [InlineData(500_000_000)]
    public void TheUnsentLimitCoversAboutATenthOfASecondOfTheUploadWithinItsBounds(double bytesPerSecond)
    {
        int limit = PeerSockets.UnsentLimitFor(bytesPerSecond);
        Assert.InRange(limit, PeerSockets.MinUnsentLimit, PeerSockets.MaxUnsentLimit);
        Assert.True(limit == PeerSockets.MaxUnsentLimit || limit >= bytesPerSecond / 10, "covers a tenth of a second unless at the cap");
        Assert.True(limit == PeerSockets.MinUnsentLimit || limit < bytesPerSecond / 5, "no more than twice that above the floor");
    }

    [Fact]
    public void AnUnsentLimitSetOnASocketReadsBack()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "TCP_NOTSENT_LOWAT is a Linux socket option.");
        using var socket = PeerSockets.Create(System.Net.Sockets.AddressFamily.InterNetwork, congestionControl: null);
        Assert.True(PeerSockets.TrySetUnsentLimit(socket, 1 << 20));
        Assert.Equal(1 << 20, PeerSockets.GetUnsentLimit(socket));
    }

    [Fact]
    public async Task AConnectionsRoundTripIsReadFromTheKernel()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "TCP_INFO is a Linux socket option.");
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(1);
        using var socket = PeerSockets.Create(System.Net.Sockets.AddressFamily.InterNetwork, congestionControl: null);
        await socket.ConnectAsync(listener.LocalEndPoint!, ct);
        using var accepted = await listener.AcceptAsync(ct);
        await socket.SendAsync(new byte[1000], ct);
        await accepted.ReceiveAsync(new byte[1000], ct);

        Assert.True(PeerSockets.TryGetRoundTrip(socket, out TimeSpan roundTrip), "the kernel reports a round trip");
        Assert.InRange(roundTrip, TimeSpan.FromTicks(1), TimeSpan.FromSeconds(1));
        socket.Dispose();
        Assert.False(PeerSockets.TryGetRoundTrip(socket, out _), "a closed socket has none");
    }
}

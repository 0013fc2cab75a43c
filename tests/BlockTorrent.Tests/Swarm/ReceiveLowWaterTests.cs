using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using BlockTorrent.Swarm;
using BlockTorrent.Swarm.Connections;
using BlockTorrent.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace BlockTorrent.Tests.Swarm;

/// <summary>A connection over a real socket has the kernel wake its receive loop once a long message is whole.</summary>
public sealed class ReceiveLowWaterTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public void AReceiveLowWaterMarkSetOnASocketReadsBack()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "SO_RCVLOWAT is set only on Linux.");
        using var socket = PeerSockets.Create(AddressFamily.InterNetwork, congestionControl: null);
        Assert.True(PeerSockets.TrySetReceiveLowWater(socket, 20_000));
        Assert.Equal(20_000, PeerSockets.GetReceiveLowWater(socket));
    }

    [Fact]
    public async Task WhileALongMessageArrivesTheKernelWaitsForItsRestAndThenForAnyByteAgain()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "SO_RCVLOWAT is set only on Linux.");
        CancellationToken ct = TestContext.Current.CancellationToken;
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await peer.ConnectAsync(listener.LocalEndPoint!, ct);
        Socket accepted = await listener.AcceptAsync(ct);
        var handler = new LengthPrefixedHandler();
        var connection = new PeerConnection<int>(accepted, new NetworkStream(accepted, ownsSocket: true), TimeProvider.System, NullLogger.Instance, ct);
        Task loops = connection.Start(handler);

        byte[] message = new byte[4 + 20_000];
        BinaryPrimitives.WriteInt32BigEndian(message, 20_000);
        await peer.SendAsync(message.AsMemory(0, 4 + 1_000), ct);
        await Eventually.TrueAsync(() => PeerSockets.GetReceiveLowWater(accepted) == 19_000, Bound, "the kernel waits for the 19,000 bytes the message lacks", ct);
        Assert.Empty(handler.Lengths);

        await peer.SendAsync(message.AsMemory(4 + 1_000), ct);
        await Eventually.TrueAsync(() => handler.Count == 1, Bound, "the message is handled once whole", ct);
        Assert.Equal(20_000, handler.Lengths.Single());
        Assert.Equal(1, PeerSockets.GetReceiveLowWater(accepted));

        // A short message never waits: with nothing missing, any byte wakes the loop.
        await peer.SendAsync(new byte[] { 0, 0, 0, 3, 1, 2, 3 }, ct);
        await Eventually.TrueAsync(() => handler.Count == 2, Bound, "the short message is handled", ct);

        connection.Close("test over");
        await loops.WaitAsync(Bound, ct);
    }

    /// <summary>Frames of a 4-byte big-endian length and that many bytes; records each frame's length.</summary>
    private sealed class LengthPrefixedHandler : IConnectionHandler<int>
    {
        private readonly List<int> _lengths = [];

        public List<int> Lengths
        {
            get
            {
                lock (_lengths)
                {
                    return [.. _lengths];
                }
            }
        }

        public int Count
        {
            get
            {
                lock (_lengths)
                {
                    return _lengths.Count;
                }
            }
        }

        public long MissingBytes { get; private set; }

        public string? OnReceived(ref ReadOnlySequence<byte> buffer)
        {
            MissingBytes = 0;
            Span<byte> prefix = stackalloc byte[4];
            while (buffer.Length >= 4)
            {
                buffer.Slice(0, 4).CopyTo(prefix);
                int length = BinaryPrimitives.ReadInt32BigEndian(prefix);
                if (buffer.Length < 4 + length)
                {
                    MissingBytes = 4 + length - buffer.Length;
                    return null;
                }

                buffer = buffer.Slice(4 + length);
                lock (_lengths)
                {
                    _lengths.Add(length);
                }
            }

            return null;
        }

        public void OnReceiveBatchEnd()
        {
        }

        public bool IsBulk(in int message) => false;

        public ValueTask<int> WriteAsync(PipeWriter output, int message, CancellationToken cancellationToken) => ValueTask.FromResult(0);

        public void OnClosed(string reason)
        {
        }
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using BlockTorrent.Swarm.Connections;
using BlockTorrent.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace BlockTorrent.Tests.Swarm;

/// <summary>The transport under every peer session, over an in-memory pipe instead of a socket.</summary>
public sealed class PeerConnectionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task MessagesQueuedTogetherAreWrittenSmallOnesFirstAndBulkInTheOrderQueued()
    {
        (PeerConnection<Frame> connection, FrameHandler handler, Pipe toPeer, Pipe fromPeer) = Open();
        connection.Send(new Frame(1, Bulk: true));
        connection.Send(new Frame(2, Bulk: true));
        connection.Send(new Frame(3, Bulk: false));
        connection.Send(new Frame(4, Bulk: false));
        Task loops = connection.Start(handler);

        List<int> written = await ReadFramesAsync(toPeer.Reader, 4);
        Assert.Equal([3, 4, 1, 2], written);
        connection.Close("done");
        await loops.WaitAsync(Bound, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task FramesSplitAcrossReadsReachTheHandlerWhole()
    {
        (PeerConnection<Frame> connection, FrameHandler handler, Pipe toPeer, Pipe fromPeer) = Open();
        Task loops = connection.Start(handler);

        byte[] bytes = [.. Encode(7), .. Encode(8), .. Encode(9)];
        foreach (byte b in bytes)
        {
            // One byte per flush: every frame arrives in pieces.
            await fromPeer.Writer.WriteAsync(new[] { b }, TestContext.Current.CancellationToken);
        }

        await Eventually.TrueAsync(() => handler.Received.Count == 3, Bound, "three frames received", TestContext.Current.CancellationToken);
        Assert.Equal([7, 8, 9], handler.Received);
        connection.Close("done");
        await loops.WaitAsync(Bound, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AHandlersErrorClosesTheConnectionOnceWithItsReason()
    {
        (PeerConnection<Frame> connection, FrameHandler handler, Pipe toPeer, Pipe fromPeer) = Open();
        Task loops = connection.Start(handler);

        await fromPeer.Writer.WriteAsync(Encode(FrameHandler.Refused), TestContext.Current.CancellationToken);
        await loops.WaitAsync(Bound, TestContext.Current.CancellationToken);
        connection.Close("again");
        Assert.Equal(["frame 255 refused"], handler.Closed);
        Assert.True(connection.IsClosed);
    }

    private static (PeerConnection<Frame> Connection, FrameHandler Handler, Pipe ToPeer, Pipe FromPeer) Open()
    {
        var toPeer = new Pipe();
        var fromPeer = new Pipe();
        var stream = new DuplexStream(fromPeer.Reader.AsStream(), toPeer.Writer.AsStream());
        var connection = new PeerConnection<Frame>(stream, new IPEndPoint(IPAddress.Loopback, 1), TimeProvider.System, NullLogger.Instance, TestContext.Current.CancellationToken);
        return (connection, new FrameHandler(), toPeer, fromPeer);
    }

    private static byte[] Encode(int id)
    {
        byte[] frame = new byte[5];
        BinaryPrimitives.WriteInt32BigEndian(frame, 1);
        frame[4] = (byte)id;
        return frame;
    }

    private static async Task<List<int>> ReadFramesAsync(PipeReader reader, int count)
    {
        var frames = new List<int>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(Bound);
        while (frames.Count < count)
        {
            ReadResult result = await reader.ReadAsync(timeout.Token);
            ReadOnlySequence<byte> buffer = result.Buffer;
            while (FrameHandler.TryReadFrame(ref buffer, out int id))
            {
                frames.Add(id);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }

        return frames;
    }

    private readonly record struct Frame(int Id, bool Bulk);

    /// <summary>A protocol of 4-byte length-prefixed frames holding one id byte.</summary>
    private sealed class FrameHandler : IConnectionHandler<Frame>
    {
        public const int Refused = 255;

        public List<int> Received { get; } = [];

        public List<string> Closed { get; } = [];

        public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out int id)
        {
            id = 0;
            var reader = new SequenceReader<byte>(buffer);
            if (!reader.TryReadBigEndian(out int length) || reader.Remaining < length || length != 1)
            {
                return false;
            }

            reader.TryRead(out byte value);
            id = value;
            buffer = buffer.Slice(reader.Position);
            return true;
        }

        public string? OnReceived(ref ReadOnlySequence<byte> buffer)
        {
            while (TryReadFrame(ref buffer, out int id))
            {
                if (id == Refused)
                {
                    return $"frame {id} refused";
                }

                lock (Received)
                {
                    Received.Add(id);
                }
            }

            return null;
        }

        public void OnReceiveBatchEnd()
        {
        }

        public bool IsBulk(in Frame message) => message.Bulk;

        public ValueTask<int> WriteAsync(PipeWriter output, Frame message, CancellationToken cancellationToken)
        {
            output.Write(Encode(message.Id));
            return ValueTask.FromResult(5);
        }

        public void OnClosed(string reason) => Closed.Add(reason);
    }

    private sealed class DuplexStream(Stream input, Stream output) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => output.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => output.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => input.Read(buffer, offset, count);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => input.ReadAsync(buffer, cancellationToken);

        public override void Write(byte[] buffer, int offset, int count) => output.Write(buffer, offset, count);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => output.WriteAsync(buffer, cancellationToken);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                input.Dispose();
                output.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

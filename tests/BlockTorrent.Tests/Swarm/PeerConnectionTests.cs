using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using BlockTorrent.Swarm.Connections;
using BlockTorrent.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace BlockTorrent.Tests.Swarm;

/// <summary>The transport under every peer session, over an in-memory pipe instead of a socket.</summary>
public sealed class PeerConnectionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

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

    [Fact]
    public async Task AConnectionWhosePeerStopsReadingIsClosedAfterTheSendTimeout()
    {
        var time = new FakeTimeProvider();
        (PeerConnection<Frame> connection, FrameHandler handler, Task loops) = await StartStuckAsync(time);
        DateTimeOffset stuck = time.GetUtcNow();
        await FakeClock.AdvanceUntilAsync(time, handler.ClosedOnce, connection.SendTimeout + TimeSpan.FromMinutes(10), TestContext.Current.CancellationToken);
        TimeSpan waited = time.GetUtcNow() - stuck;

        Assert.Equal([PeerConnection<Frame>.NotReadingReason], handler.Closed);
        Assert.True(waited >= connection.SendTimeout - TimeSpan.FromSeconds(1), $"closed after {waited}, before the send timeout of {connection.SendTimeout}");
        await loops.WaitAsync(Bound, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AConnectionWhosePeerReadsSlowlyIsNotClosedWhileItsSendsProgress()
    {
        var time = new FakeTimeProvider();
        (PeerConnection<Frame> connection, FrameHandler handler, Pipe toPeer, Pipe fromPeer) = Open(time, StuckPeer());
        Task loops = connection.Start(handler);

        // Ten minutes of sends in one go, and a peer that takes one frame a minute: the queue stays full for nine
        // minutes, but the sends move, so the send timeout (two minutes) never runs out.
        for (int i = 0; i < 10; i++)
        {
            connection.Send(new Frame(i, Bulk: true, Padding: 64 * 1024));
        }

        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        bounded.CancelAfter(Bound);
        for (int minute = 0; minute < 10; minute++)
        {
            // The peer takes this frame whole; the first bytes of the next one mean the send loop saw this one's
            // flush complete (and restarted its timeout) before writing them. Only then does the minute pass.
            await ConsumeAsync(toPeer.Reader, 5 + (64 * 1024), bounded.Token);
            if (minute == 9)
            {
                break;
            }

            await PeekAsync(toPeer.Reader, bounded.Token);
            for (int second = 0; second < 60; second++)
            {
                time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        Assert.Empty(handler.Closed);
        connection.Close("done");
        await loops.WaitAsync(Bound, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AConnectionWhosePeerNeverReadsHoldsAtMostItsBoundThenCloses()
    {
        var time = new FakeTimeProvider();
        (PeerConnection<Frame> connection, FrameHandler handler, Task loops) = await StartStuckAsync(time, maxQueued: 100, sendTimeout: Timeout.InfiniteTimeSpan);

        int queued = 0;
        for (int i = 0; i < 1000; i++)
        {
            queued += connection.Send(new Frame(2, Bulk: false)) ? 1 : 0;
            Assert.True(connection.Queued <= 100, $"{connection.Queued} messages queued, above the bound of 100");
        }

        Assert.Equal(100, queued);
        await Eventually.TrueAsync(() => handler.Closed.Count == 1, Bound, "the connection closed", TestContext.Current.CancellationToken);
        Assert.Equal([PeerConnection<Frame>.NotReadingReason], handler.Closed);
        await loops.WaitAsync(Bound, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task KeepAlivesDoNotPileUpBehindASendThatIsStuckForAnHour()
    {
        var time = new FakeTimeProvider();
        (PeerConnection<Frame> connection, FrameHandler handler, Task loops) = await StartStuckAsync(time, sendTimeout: Timeout.InfiniteTimeSpan);

        // The swarm's tick: a keep-alive each second to a connection idle for a minute.
        long minute = time.TimestampFrequency * 60;
        int queued = 0;
        for (int second = 0; second < 3600; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            queued += connection.SendIfIdle(new Frame(0, Bulk: false), time.GetTimestamp(), minute) ? 1 : 0;
        }

        Assert.Equal(0, queued);
        Assert.Equal(0, connection.Queued);
        Assert.Empty(handler.Closed);
        connection.Close("done");
        await loops.WaitAsync(Bound, TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AnIdleConnectionGetsOneKeepAliveAfterTheInterval()
    {
        var time = new FakeTimeProvider();
        (PeerConnection<Frame> connection, FrameHandler handler, Pipe toPeer, Pipe fromPeer) = Open(time);
        Task loops = connection.Start(handler);
        long minute = time.TimestampFrequency * 60;

        Assert.False(connection.SendIfIdle(new Frame(0, Bulk: false), time.GetTimestamp(), minute));
        time.Advance(TimeSpan.FromSeconds(61));
        Assert.True(connection.SendIfIdle(new Frame(0, Bulk: false), time.GetTimestamp(), minute));
        Assert.Equal([0], await ReadFramesAsync(toPeer.Reader, 1));
        connection.Close("done");
        await loops.WaitAsync(Bound, TestContext.Current.CancellationToken);
    }

    /// <summary>Opens a connection to a peer that reads nothing, and gets its send loop stuck on a frame too big for the peer's pipe.</summary>
    private static async Task<(PeerConnection<Frame> Connection, FrameHandler Handler, Task Loops)> StartStuckAsync(
        FakeTimeProvider time, int maxQueued = PeerConnection<Frame>.DefaultMaxQueued, TimeSpan? sendTimeout = null)
    {
        (PeerConnection<Frame> connection, FrameHandler handler, Pipe toPeer, Pipe fromPeer) = Open(time, StuckPeer(), maxQueued, sendTimeout);
        Task loops = connection.Start(handler);
        connection.Send(new Frame(1, Bulk: true, Padding: 64 * 1024));
        await Eventually.TrueAsync(() => connection.Queued == 0, Bound, "the frame handed to the stream", TestContext.Current.CancellationToken);
        return (connection, handler, loops);
    }

    private static PipeOptions StuckPeer() => new(pauseWriterThreshold: 16 * 1024, resumeWriterThreshold: 8 * 1024);

    private static (PeerConnection<Frame> Connection, FrameHandler Handler, Pipe ToPeer, Pipe FromPeer) Open(
        TimeProvider? time = null, PipeOptions? toPeerOptions = null, int maxQueued = PeerConnection<Frame>.DefaultMaxQueued, TimeSpan? sendTimeout = null)
    {
        var toPeer = new Pipe(toPeerOptions ?? PipeOptions.Default);
        var fromPeer = new Pipe();
        var stream = new DuplexStream(fromPeer.Reader.AsStream(), toPeer.Writer.AsStream());
        var connection = new PeerConnection<Frame>(stream, new IPEndPoint(IPAddress.Loopback, 1), time ?? TimeProvider.System, NullLogger.Instance, TestContext.Current.CancellationToken)
        {
            MaxQueued = maxQueued,
            SendTimeout = sendTimeout ?? PeerConnection<Frame>.DefaultSendTimeout,
        };
        return (connection, new FrameHandler(), toPeer, fromPeer);
    }

    private static byte[] Encode(int id)
    {
        byte[] frame = new byte[5];
        BinaryPrimitives.WriteInt32BigEndian(frame, 1);
        frame[4] = (byte)id;
        return frame;
    }

    /// <summary>Takes exactly <paramref name="count"/> bytes from the pipe, however they arrive.</summary>
    private static async Task ConsumeAsync(PipeReader reader, long count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            ReadResult result = await reader.ReadAsync(cancellationToken);
            long take = Math.Min(count, result.Buffer.Length);
            count -= take;
            reader.AdvanceTo(result.Buffer.GetPosition(take));
        }
    }

    /// <summary>Waits until the pipe holds at least a byte, and leaves it there.</summary>
    private static async Task PeekAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        ReadResult result = await reader.ReadAsync(cancellationToken);
        reader.AdvanceTo(result.Buffer.Start);
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

    private readonly record struct Frame(int Id, bool Bulk, int Padding = 0);

    /// <summary>A protocol of 4-byte length-prefixed frames holding one id byte.</summary>
    private sealed class FrameHandler : IConnectionHandler<Frame>
    {
        public const int Refused = 255;

        public List<int> Received { get; } = [];

        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<string> Closed { get; } = [];

        public Task ClosedOnce => _closed.Task;

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

        public long MissingBytes => 0;

        public void OnReceiveBatchEnd()
        {
        }

        public bool IsBulk(in Frame message) => message.Bulk;

        public ValueTask<int> WriteAsync(PipeWriter output, Frame message, CancellationToken cancellationToken)
        {
            if (message.Padding > 0)
            {
                // A frame the tests never parse: only its size matters.
                Span<byte> frame = output.GetSpan(5 + message.Padding)[..(5 + message.Padding)];
                frame.Clear();
                BinaryPrimitives.WriteInt32BigEndian(frame, 1 + message.Padding);
                frame[4] = (byte)message.Id;
                output.Advance(frame.Length);
                return ValueTask.FromResult(frame.Length);
            }

            output.Write(Encode(message.Id));
            return ValueTask.FromResult(5);
        }

        public void OnClosed(string reason)
        {
            lock (Closed)
            {
                Closed.Add(reason);
            }

            _closed.TrySetResult();
        }
    }

    /// <summary>A stream over two pipes that, like a socket's, throws <see cref="ObjectDisposedException"/> once disposed.</summary>
    private sealed class DuplexStream(Stream input, Stream output) : Stream
    {
        private volatile bool _disposed;

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

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return output.WriteAsync(buffer, cancellationToken);
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _disposed = true;
                input.Dispose();
                output.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

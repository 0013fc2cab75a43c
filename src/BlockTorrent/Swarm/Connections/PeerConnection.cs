using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace BlockTorrent.Swarm.Connections;

/// <summary>
/// One peer connection's transport, which knows nothing of torrents: a receive loop that reads the stream into a
/// pipe and hands what arrived to its <see cref="IConnectionHandler{TMessage}"/>, and a send loop, the only writer of
/// the stream, that writes queued messages (every other message ahead of bulk data) and flushes them.
/// </summary>
/// <remarks>
/// <para>
/// The pipe bounds what is read ahead (pause and resume thresholds), so a flood stops the socket reads instead of
/// growing memory. Over a socket, the kernel holds about a tenth of a second of the connection's upload unsent
/// (TCP_NOTSENT_LOWAT, from <see cref="UpdateUnsentLimit"/>), so what is sent next waits behind little of what was
/// sent before; the socket also gives the round trip and the send state, and takes a pacing cap.
/// </para>
/// <para>
/// A peer that never reads must cost a bounded amount and then go: the queue holds at most <see cref="MaxQueued"/>
/// messages (one more closes the connection instead of growing it), a send that makes no progress for
/// <see cref="SendTimeout"/> closes it, and <see cref="SendIfIdle"/> queues a keep-alive only to a connection with
/// nothing queued or being written, so keep-alives never pile up behind a send that is stuck.
/// </para>
/// <para>Closing (<see cref="Close"/>) happens once, from either loop or from outside, and tells the handler.</para>
/// </remarks>
/// <typeparam name="TMessage">A queued message.</typeparam>
internal sealed class PeerConnection<TMessage>
    where TMessage : struct
{
    /// <summary>The default for <see cref="MaxQueued"/>.</summary>
    public const int DefaultMaxQueued = 8192;

    /// <summary>The reason a connection whose peer stopped reading is closed with.</summary>
    public const string NotReadingReason = "the peer does not read what we send";

    private const int FlushThreshold = 64 * 1024;

    /// <summary>
    /// The fewest missing bytes worth having the kernel wait for: below it, the message is a few packets from whole
    /// and the extra socket option call would cost more than the wake-ups it saves.
    /// </summary>
    private const int MinReceiveLowWater = 4 * 1024;

    /// <summary>The most bytes the kernel is asked to wait for: a block message and then some.</summary>
    private const int MaxReceiveLowWater = 32 * 1024;

    private readonly Socket? _socket;
    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly Channel<TMessage> _outgoing = Channel.CreateUnbounded<TMessage>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _cts;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private IConnectionHandler<TMessage> _handler = null!;
    private ITimer? _sendTimer;
    private long _sendTimerArmed;
    private int _queued;
    private bool _sendIdle = true;
    private int _closed;
    private int _unsentLimit;
    private int _receiveLowWater = 1;
    private ulong _uploadCap = ulong.MaxValue;

    /// <summary>Initializes a new connection over a socket's stream (its own, or TLS over it), which owns the socket.</summary>
    /// <param name="socket">The socket under the stream (tuned: unsent-data limit, round trip, pacing).</param>
    /// <param name="stream">The stream the connection reads and writes, which it owns.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="cancellationToken">Closes the connection's loops when cancelled.</param>
    public PeerConnection(Socket socket, Stream stream, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
        : this(stream, (IPEndPoint)socket.RemoteEndPoint!, time, logger, cancellationToken)
    {
        _socket = socket;

        // Over TLS the socket carries records, whose bytes are not the messages' and part of which the TLS stream may
        // already hold: waiting for a count of them could wait for bytes that never come.
        ReceivesPlain = stream is NetworkStream;

        // The kernel holds little unsent data (more once the upload rate shows it can use more).
        _unsentLimit = PeerSockets.TrySetUnsentLimit(socket, PeerSockets.InitialUnsentLimit) ? PeerSockets.InitialUnsentLimit : 0;
    }

    /// <summary>Initializes a new connection over a stream, which it owns (no socket options apply).</summary>
    /// <param name="stream">The stream.</param>
    /// <param name="remote">The peer's address.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">The logger.</param>
    /// <param name="cancellationToken">Closes the connection's loops when cancelled.</param>
    public PeerConnection(Stream stream, IPEndPoint remote, TimeProvider time, ILogger logger, CancellationToken cancellationToken)
    {
        _stream = stream;
        _input = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 16 * 1024, leaveOpen: true));
        _output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(minimumBufferSize: 64 * 1024, leaveOpen: true));
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _time = time;
        _logger = logger;
        Remote = remote;
        LastReceived = LastSent = time.GetTimestamp();
    }

    /// <summary>The default for <see cref="SendTimeout"/>.</summary>
    public static TimeSpan DefaultSendTimeout { get; } = TimeSpan.FromMinutes(2);

    /// <summary>Gets the peer's address.</summary>
    public IPEndPoint Remote { get; }

    /// <summary>
    /// Gets the most messages queued and not yet written; one more closes the connection. It is far above what a
    /// peer that reads makes us queue (its requests and our rejects are capped by the protocol on top, control
    /// messages are written first), so only a peer that stopped reading reaches it.
    /// </summary>
    /// <value>The default is <see cref="DefaultMaxQueued"/>.</value>
    public int MaxQueued { get; init; } = DefaultMaxQueued;

    /// <summary>
    /// Gets how long the send loop may hold something to send without the stream taking any of it before the
    /// connection is closed: the peer stopped reading (its window and our socket buffer are full).
    /// </summary>
    /// <value>The default is <see cref="DefaultSendTimeout"/> (two minutes).</value>
    public TimeSpan SendTimeout { get; init; } = DefaultSendTimeout;

    /// <summary>
    /// Gets a value indicating whether the socket carries the messages' own bytes (no TLS), so that while a long
    /// message is arriving the kernel is told to wake the receive loop only once the rest of it is there (see
    /// <see cref="IConnectionHandler{TMessage}.MissingBytes"/>): a 16 KiB block then costs one or two reads instead of
    /// one per packet or two, each a wake-up and a hop through the thread pool.
    /// </summary>
    public bool ReceivesPlain { get; }

    /// <summary>Gets how many messages are queued and not yet written.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>Gets the time the last bytes were received.</summary>
    public long LastReceived { get; private set; }

    /// <summary>Gets the time the send queue was last drained.</summary>
    public long LastSent { get; private set; }

    /// <summary>Gets a value indicating whether the connection is closed.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Gets a token cancelled when the connection closes.</summary>
    public CancellationToken Closing => _cts.Token;

    /// <summary>Starts the loops.</summary>
    /// <param name="handler">The protocol on top.</param>
    /// <returns>A task that completes when both loops have ended.</returns>
    public Task Start(IConnectionHandler<TMessage> handler)
    {
        _handler = handler;
        _sendTimer = _time.CreateTimer(static c => ((PeerConnection<TMessage>)c!).CloseNotReading(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        return Task.WhenAll(Task.Run(ReceiveLoopAsync), Task.Run(SendLoopAsync));
    }

    /// <summary>
    /// Queues a message. A connection that already holds <see cref="MaxQueued"/> is closed instead (on the thread
    /// pool: callers queue under their own locks, and closing calls back into them).
    /// </summary>
    /// <param name="message">The message.</param>
    /// <returns>Whether the message was queued.</returns>
    public bool Send(TMessage message)
    {
        if (Interlocked.Increment(ref _queued) > MaxQueued)
        {
            Interlocked.Decrement(ref _queued);
            if (!IsClosed)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static c => c.CloseNotReading(), this, preferLocal: false);
            }

            return false;
        }

        if (!_outgoing.Writer.TryWrite(message))
        {
            Interlocked.Decrement(ref _queued);
            return false;
        }

        return true;
    }

    /// <summary>
    /// Queues <paramref name="message"/> (a keep-alive) only when nothing is queued or being written and nothing was
    /// sent for <paramref name="interval"/>: to a peer that does not read, keep-alives must not pile up.
    /// </summary>
    /// <param name="message">The message.</param>
    /// <param name="now">The time now (<see cref="TimeProvider.GetTimestamp"/>).</param>
    /// <param name="interval">The idle interval, in timestamp ticks.</param>
    /// <returns>Whether the message was queued.</returns>
    public bool SendIfIdle(TMessage message, long now, long interval) =>
        Volatile.Read(ref _sendIdle) && Queued == 0 && now - LastSent > interval && Send(message);

    /// <summary>Closes the connection (once) and tells the handler.</summary>
    /// <param name="reason">Why.</param>
    public void Close(string reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _sendTimer?.Dispose();
        _cts.Cancel();
        _outgoing.Writer.TryComplete();
        try
        {
            _socket?.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer: nothing left to shut down.
        }
        catch (ObjectDisposedException)
        {
            // Already closed.
        }

        _handler.OnClosed(reason);
        _stream.Dispose();
    }

    /// <summary>Closes a connection whose peer stopped reading, and counts it.</summary>
    private void CloseNotReading()
    {
        if (!IsClosed)
        {
            SwarmMetrics.PeersEvicted.Add(1, new KeyValuePair<string, object?>("reason", "not-reading"));
            Close(NotReadingReason);
        }
    }

    /// <summary>Sets how much unsent data the kernel holds from the upload rate, when it changed.</summary>
    /// <param name="bytesPerSecond">The upload rate.</param>
    public void UpdateUnsentLimit(double bytesPerSecond)
    {
        int unsentLimit = PeerSockets.UnsentLimitFor(bytesPerSecond);
        if (_socket is not null && unsentLimit != _unsentLimit && PeerSockets.TrySetUnsentLimit(_socket, unsentLimit))
        {
            _unsentLimit = unsentLimit;
        }
    }

    private void SetReceiveLowWater(int bytes)
    {
        if (bytes != _receiveLowWater && PeerSockets.TrySetReceiveLowWater(_socket!, bytes))
        {
            _receiveLowWater = bytes;
        }
    }

    /// <summary>Reads the round trip the kernel measures.</summary>
    /// <param name="roundTrip">The round trip.</param>
    /// <returns>Whether it is known.</returns>
    public bool TryGetRoundTrip(out TimeSpan roundTrip)
    {
        roundTrip = default;
        return _socket is not null && PeerSockets.TryGetRoundTrip(_socket, out roundTrip);
    }

    /// <summary>Reads what holds the connection's sending back.</summary>
    /// <param name="state">The send state.</param>
    /// <returns>Whether it is known.</returns>
    public bool TryGetSendState(out SendState state)
    {
        state = default;
        return _socket is not null && PeerSockets.TryGetSendState(_socket, out state);
    }

    /// <summary>Caps the connection's upload rate (Linux pacing), or lifts the cap (<see cref="double.PositiveInfinity"/>).</summary>
    /// <param name="bytesPerSecond">The cap.</param>
    public void SetUploadCap(double bytesPerSecond)
    {
        ulong cap = double.IsPositiveInfinity(bytesPerSecond) ? ulong.MaxValue : (ulong)bytesPerSecond;
        if (_socket is not null && cap != _uploadCap && PeerSockets.TrySetMaxPacingRate(_socket, cap))
        {
            _uploadCap = cap;
        }
    }

    /// <summary>Names why a connection loop ended, for the exceptions that just mean the connection is gone.</summary>
    private static string? CloseReason(Exception e) => e switch
    {
        OperationCanceledException or ObjectDisposedException => "closed",
        IOException or SocketException => e.Message,
        _ => null,
    };

    private async Task ReceiveLoopAsync()
    {
        string reason = "the peer closed the connection";
        try
        {
            CancellationToken ct = _cts.Token;
            while (true)
            {
                ReadResult result = await _input.ReadAsync(ct).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    LastReceived = _time.GetTimestamp();
                }

                string? error = _handler.OnReceived(ref buffer);
                _input.AdvanceTo(buffer.Start, buffer.End);
                if (error is not null)
                {
                    reason = error;
                    break;
                }

                if (ReceivesPlain)
                {
                    // Everything the pipe held was examined, so what the message still lacks is all in the kernel
                    // or still on its way.
                    long missing = _handler.MissingBytes;
                    SetReceiveLowWater(missing >= MinReceiveLowWater ? (int)Math.Min(missing, MaxReceiveLowWater) : 1);
                }

                _handler.OnReceiveBatchEnd();
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception e) when (CloseReason(e) is { } why)
        {
            reason = why;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A bug in handling one peer's message must cost that connection, never the engine.
            Log.HandlerFailed(_logger, e, Remote);
            reason = $"internal error: {e.Message}";
        }
        finally
        {
            await _input.CompleteAsync().ConfigureAwait(false);
            Close(reason);
        }
    }

    /// <summary>
    /// Restarts the send timeout: the stream took what was written. Re-armed at most once a second, so a steady
    /// upload does not touch the timer on every flush (the timeout then counts from up to a second before the last
    /// progress).
    /// </summary>
    private void ArmSendTimer(bool force)
    {
        long now = _time.GetTimestamp();
        if (force || now - _sendTimerArmed >= _time.TimestampFrequency)
        {
            _sendTimerArmed = now;
            _sendTimer!.Change(SendTimeout, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task SendLoopAsync()
    {
        string reason = "send loop ended";
        try
        {
            CancellationToken ct = _cts.Token;
            ChannelReader<TMessage> queue = _outgoing.Reader;

            // Bulk data waits here, behind every other message: a request, a have or a choke must not queue behind
            // the megabytes the peer asked of us, or in a swarm where every pair trades both ways each end learns of
            // the other's pieces, and gets its requests answered, only after its own upload to that peer drains.
            var bulk = new Queue<TMessage>();

            // Nothing happens until there is something to send: a first pass over an empty queue would only mark the
            // connection as having sent just now, whenever the loop got its first turn.
            while (await queue.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                Volatile.Write(ref _sendIdle, false);
                ArmSendTimer(force: true);
                long unflushed = 0;
                while (true)
                {
                    bool control = false;
                    while (queue.TryRead(out TMessage m))
                    {
                        if (_handler.IsBulk(m))
                        {
                            bulk.Enqueue(m);
                        }
                        else
                        {
                            unflushed += await _handler.WriteAsync(_output, m, ct).ConfigureAwait(false);
                            Interlocked.Decrement(ref _queued);
                            control = true;
                        }
                    }

                    if (control || unflushed >= FlushThreshold)
                    {
                        if ((await _output.FlushAsync(ct).ConfigureAwait(false)).IsCompleted)
                        {
                            return;
                        }

                        ArmSendTimer(force: false);
                        unflushed = 0;
                    }

                    if (!bulk.TryDequeue(out TMessage next))
                    {
                        break;
                    }

                    unflushed += await _handler.WriteAsync(_output, next, ct).ConfigureAwait(false);
                    Interlocked.Decrement(ref _queued);

                    // A block written is progress too: under an upload cap the handler waits before each one, and a
                    // flush may be many blocks away.
                    ArmSendTimer(force: false);
                }

                if (unflushed > 0 && (await _output.FlushAsync(ct).ConfigureAwait(false)).IsCompleted)
                {
                    return;
                }

                LastSent = _time.GetTimestamp();
                _sendTimer!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                Volatile.Write(ref _sendIdle, true);
            }
        }
        catch (Exception e) when (CloseReason(e) is { } why)
        {
            reason = why;
        }
        finally
        {
            try
            {
                // Completing flushes what is left; the stream may already be gone, which only means the peer is.
                await _output.CompleteAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (CloseReason(e) is not null)
            {
                Log.SendCompletionFailed(_logger, e.Message);
            }

            Close(reason);
        }
    }
}

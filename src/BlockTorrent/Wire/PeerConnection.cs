using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BlockTorrent.Wire;

/// <summary>
/// One peer wire connection over TCP, after the BEP 3 handshake: a receive loop that parses messages and hands them
/// to an <see cref="IPeerMessageHandler"/> (blocks go straight into an <see cref="IBlockSink"/>'s memory), and a
/// send loop that drains the messages the <c>Send…Async</c> methods queue.
/// </summary>
/// <remarks>
/// <para>
/// Life cycle: <see cref="ConnectAsync"/> (outgoing) or a <see cref="PeerListener"/> (incoming) returns a
/// connection whose handshake is done; call <see cref="Start"/> once to begin reading. Then send the bitfield (or
/// have all / have none) first, then the extended handshake if <see cref="SupportsExtensionProtocol"/>. The
/// connection closes on a protocol error, a socket error, the idle timeout, the peer closing, or
/// <see cref="Close"/>; <see cref="IPeerMessageHandler.OnClosed"/> then runs once and <see cref="Completion"/>
/// completes.
/// </para>
/// <para>
/// Memory is bounded: the receive pipe pauses the socket when a whole maximum-size message is buffered
/// (about 1 MiB by default), the send pipe makes senders wait beyond <see cref="PeerConnectionOptions.SendQueueLimit"/>.
/// Steady-state receiving and sending allocate nothing per message or per block.
/// </para>
/// <para>
/// Thread safety: the <c>Send…Async</c> methods may be called from any thread, concurrently; messages are written
/// whole and in call order. Each returns <see langword="false"/> once the connection is closed (it never throws for
/// that), and completes when the message is queued, waiting while the send queue is full.
/// </para>
/// </remarks>
internal sealed class PeerConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly MessageReader _reader;
    private readonly PeerConnectionOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _closing = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Extension messages are length-prefixed, so their payload is encoded here first; used under _sendLock only.
    private readonly ArrayBufferWriter<byte> _extensionScratch = new();
    private IPeerMessageHandler? _handler;
    private IBlockSink? _sink;
    private ITimer? _timer;
    private int _started;
    private int _closeState;
    private volatile bool _closed;
    private long _lastReceived;
    private long _lastSent;
    private long _bytesReceived;
    private long _bytesSent;
    private long _blocksReceived;
    private long _unsolicitedBlocks;
    private byte _remoteUtMetadataId;
    private byte _remoteUtPexId;

    private PeerConnection(Socket socket, PeerHandshake local, PeerHandshake remote, bool isIncoming, PeerConnectionOptions options, ILogger? logger)
    {
        _socket = socket;
        _options = options;
        _time = options.TimeProvider;
        _logger = logger ?? NullLogger.Instance;
        LocalHandshake = local;
        RemoteHandshake = remote;
        IsIncoming = isIncoming;
        RemoteEndPoint = socket.RemoteEndPoint as IPEndPoint;
        _reader = new MessageReader
        {
            FastExtension = SupportsFastExtension,
            ExtensionProtocol = SupportsExtensionProtocol,
            MaxExtensionMessageLength = options.MaxExtensionMessageLength,
        };

        // The receive pipe must be able to hold the largest message whole, or the reader could never make progress.
        // Resume at half the pause threshold so the socket loop does not thrash around it.
        long receiveLimit = _reader.MaxMessageSize + options.ReceiveChunkSize;
        _input = new Pipe(new PipeOptions(
            pauseWriterThreshold: receiveLimit,
            resumeWriterThreshold: receiveLimit / 2,
            minimumSegmentSize: options.ReceiveChunkSize,
            useSynchronizationContext: false));
        _output = new Pipe(new PipeOptions(
            pauseWriterThreshold: options.SendQueueLimit,
            resumeWriterThreshold: options.SendQueueLimit / 2,
            useSynchronizationContext: false));
        _lastReceived = _lastSent = _time.GetTimestamp();
    }

    private delegate void MessageWrite<TState>(PeerConnection connection, IBufferWriter<byte> writer, in TState state);

    /// <summary>Gets the handshake we sent.</summary>
    public PeerHandshake LocalHandshake { get; }

    /// <summary>Gets the handshake the peer sent (its features, the info-hash it used and its peer id).</summary>
    public PeerHandshake RemoteHandshake { get; }

    /// <summary>Gets a value indicating whether the peer connected to us.</summary>
    public bool IsIncoming { get; }

    /// <summary>Gets the peer's address, or <see langword="null"/> when the socket did not report one.</summary>
    public IPEndPoint? RemoteEndPoint { get; }

    /// <summary>Gets a value indicating whether both sides set the BEP 6 fast extension bit.</summary>
    public bool SupportsFastExtension => LocalHandshake.Negotiated(RemoteHandshake, HandshakeFeatures.Fast);

    /// <summary>Gets a value indicating whether both sides set the BEP 10 extension protocol bit.</summary>
    public bool SupportsExtensionProtocol => LocalHandshake.Negotiated(RemoteHandshake, HandshakeFeatures.ExtensionProtocol);

    /// <summary>Gets a value indicating whether both sides set the BEP 52 v2 bit.</summary>
    public bool SupportsV2 => LocalHandshake.Negotiated(RemoteHandshake, HandshakeFeatures.V2);

    /// <summary>Gets or sets anything the owner (the swarm) wants to find the connection's state by.</summary>
    public object? Tag { get; set; }

    /// <summary>
    /// Gets or sets the torrent's piece count, or 0 while unknown (before the metadata of a magnet link arrived).
    /// When set, incoming piece indices and the bitfield length are checked against it. Set it before
    /// <see cref="Start"/>, or as soon as the metadata is known.
    /// </summary>
    public int PieceCount
    {
        get => _reader.PieceCount;
        set => _reader.PieceCount = value;
    }

    /// <summary>Gets the peer's latest extended handshake, or <see langword="null"/> before it arrived.</summary>
    public ExtensionHandshake? RemoteExtensions { get; private set; }

    /// <summary>Gets a value indicating whether the peer speaks ut_metadata (BEP 9).</summary>
    public bool SupportsMetadataExchange => _remoteUtMetadataId != 0;

    /// <summary>Gets a value indicating whether the peer speaks ut_pex (BEP 11).</summary>
    public bool SupportsPeerExchange => _remoteUtPexId != 0;

    /// <summary>Gets the bytes received, handshake excluded.</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>Gets the bytes sent, handshake excluded.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Gets the number of blocks copied into the block sink.</summary>
    public long BlocksReceived => Interlocked.Read(ref _blocksReceived);

    /// <summary>Gets the number of blocks dropped because the block sink did not want them.</summary>
    public long UnsolicitedBlocks => Interlocked.Read(ref _unsolicitedBlocks);

    /// <summary>Gets why the connection closed, or <see cref="PeerCloseReason.None"/> while it is open.</summary>
    public PeerCloseReason CloseReason { get; private set; }

    /// <summary>Gets how the peer broke the protocol, when <see cref="CloseReason"/> is <see cref="PeerCloseReason.ProtocolError"/>.</summary>
    public WireError ProtocolError { get; private set; }

    /// <summary>Gets the exception behind a <see cref="PeerCloseReason.SocketError"/> or <see cref="PeerCloseReason.HandlerFailed"/> close.</summary>
    public Exception? CloseException { get; private set; }

    /// <summary>Gets a task that completes once the connection is closed and <see cref="IPeerMessageHandler.OnClosed"/> has run.</summary>
    public Task Completion => _completion.Task;

    /// <summary>Gets a value indicating whether the connection is closed or closing.</summary>
    public bool IsClosed => _closed;

    /// <summary>
    /// Connects to a peer, exchanges BEP 3 handshakes, and returns the connection (not yet started).
    /// </summary>
    /// <param name="remote">The peer's address.</param>
    /// <param name="local">Our handshake: features, the 20-byte info-hash and our peer id.</param>
    /// <param name="options">The settings, or <see langword="null"/> for the defaults.</param>
    /// <param name="upgradeInfoHash">
    /// For a hybrid torrent, its truncated v2 info-hash: when we set <see cref="HandshakeFeatures.V2"/> the peer
    /// may answer with it to move the connection to v2 (BEP 52). <see langword="null"/> otherwise.
    /// </param>
    /// <param name="logger">The logger, or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancels the connect and handshake.</param>
    /// <returns>The connection.</returns>
    /// <exception cref="SocketException">The TCP connection failed.</exception>
    /// <exception cref="TimeoutException">The connect or handshake took too long.</exception>
    /// <exception cref="PeerProtocolException">The peer's handshake is invalid or names another torrent.</exception>
    public static async Task<PeerConnection> ConnectAsync(
        IPEndPoint remote,
        PeerHandshake local,
        PeerConnectionOptions? options = null,
        byte[]? upgradeInfoHash = null,
        ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(remote);
        ArgumentNullException.ThrowIfNull(local);
        options ??= PeerConnectionOptions.Default;
        options.Validate();
        Socket socket = CreateSocket(remote.AddressFamily, options);
        try
        {
            using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                timeout.CancelAfter(options.ConnectTimeout);
                await WithTimeout(socket.ConnectAsync(remote, timeout.Token), cancellationToken, $"Connecting to {remote}").ConfigureAwait(false);
            }

            byte[] buffer = new byte[PeerHandshake.Size];
            PeerHandshake remoteHandshake;
            using (var timeout = new CancellationTokenSource(options.HandshakeTimeout, options.TimeProvider))
            using (var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token))
            {
                local.WriteTo(buffer);
                await WithTimeout(SendAllAsync(socket, buffer, linked.Token), cancellationToken, $"The handshake with {remote}").ConfigureAwait(false);
                await WithTimeout(ReceiveExactlyAsync(socket, buffer, linked.Token), cancellationToken, $"The handshake with {remote}").ConfigureAwait(false);
                remoteHandshake = PeerHandshake.TryParse(buffer)
                    ?? throw new PeerProtocolException(WireError.InvalidHandshake, $"Peer {remote} did not answer with a BitTorrent handshake.");
            }

            bool sameTorrent = remoteHandshake.InfoHash.SequenceEqual(local.InfoHash)
                || (upgradeInfoHash is not null && local.Features.HasFlag(HandshakeFeatures.V2) && remoteHandshake.InfoHash.SequenceEqual(upgradeInfoHash));
            if (!sameTorrent)
            {
                throw new PeerProtocolException(WireError.UnknownInfoHash, $"Peer {remote} answered with info-hash {Convert.ToHexStringLower(remoteHandshake.InfoHash)}, not {Convert.ToHexStringLower(local.InfoHash)}.");
            }

            var connection = new PeerConnection(socket, local, remoteHandshake, isIncoming: false, options, logger);
            connection.LogConnected();
            return connection;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Begins reading messages (and sending queued ones). Call once, after setting <see cref="PieceCount"/> if known.
    /// </summary>
    /// <param name="handler">Receives every message but blocks.</param>
    /// <param name="sink">Receives blocks.</param>
    /// <exception cref="InvalidOperationException">The connection was already started.</exception>
    public void Start(IPeerMessageHandler handler, IBlockSink sink)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(sink);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The connection was already started.");
        }

        _handler = handler;
        _sink = sink;

        // Check often enough that neither deadline is overshot by more than a quarter.
        TimeSpan tick = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerMillisecond * 100, Math.Min(_options.KeepAliveInterval.Ticks, _options.IdleTimeout.Ticks) / 4));
        _timer = _time.CreateTimer(static state => ((PeerConnection)state!).OnTimer(), this, tick, tick);
        _ = RunAsync();
    }

    /// <summary>Closes the connection; pending and later sends return <see langword="false"/>. Safe to call more than once.</summary>
    public void Close() => CloseWith(PeerCloseReason.Local);

    /// <summary>Closes the connection and waits until it is fully shut down.</summary>
    /// <returns>A task that completes when the connection is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        Close();
        if (Volatile.Read(ref _started) == 0)
        {
            // Never started: there are no loops to wait for.
            Volatile.Write(ref _started, 1);
            await ShutDownAsync().ConfigureAwait(false);
        }

        await Completion.ConfigureAwait(false);
    }

    /// <summary>
    /// Sends a message without fields: <see cref="MessageId.Choke"/>, <see cref="MessageId.Unchoke"/>,
    /// <see cref="MessageId.Interested"/>, <see cref="MessageId.NotInterested"/>, <see cref="MessageId.HaveAll"/>
    /// or <see cref="MessageId.HaveNone"/> (the last two only with the fast extension).
    /// </summary>
    /// <param name="id">The message.</param>
    /// <param name="cancellationToken">Cancels waiting for room in the send queue.</param>
    /// <returns><see langword="false"/> when the connection is closed.</returns>
    public ValueTask<bool> SendAsync(MessageId id, CancellationToken cancellationToken = default) =>
        SendCoreAsync(static (_, w, in id) => MessageWriter.WriteSimple(w, id), id, cancellationToken);

    /// <summary>
    /// Sends a message naming one piece: <see cref="MessageId.Have"/>, or (with the fast extension)
    /// <see cref="MessageId.SuggestPiece"/> or <see cref="MessageId.AllowedFast"/>.
    /// </summary>
    /// <param name="id">The message.</param>
    /// <param name="piece">The piece index.</param>
    /// <param name="cancellationToken">Cancels waiting for room in the send queue.</param>
    /// <returns><see langword="false"/> when the connection is closed.</returns>
    public ValueTask<bool> SendPieceIndexAsync(MessageId id, int piece, CancellationToken cancellationToken = default) =>
        SendCoreAsync(static (_, w, in s) => MessageWriter.WritePieceIndex(w, s.Id, s.Piece), (Id: id, Piece: piece), cancellationToken);

    /// <summary>
    /// Sends a message naming a block: <see cref="MessageId.Request"/>, <see cref="MessageId.Cancel"/>, or (with
    /// the fast extension) <see cref="MessageId.RejectRequest"/>.
    /// </summary>
    /// <param name="id">The message.</param>
    /// <param name="block">The block.</param>
    /// <param name="cancellationToken">Cancels waiting for room in the send queue.</param>
    /// <returns><see langword="false"/> when the connection is closed.</returns>
    public ValueTask<bool> SendBlockAsync(MessageId id, BlockRequest block, CancellationToken cancellationToken = default) =>
        SendCoreAsync(static (_, w, in s) => MessageWriter.WriteBlock(w, s.Id, s.Block), (Id: id, Block: block), cancellationToken);

    /// <summary>Sends many requests as one write (one wake-up of the send loop, usually one TCP segment train).</summary>
    /// <param name="blocks">The blocks to request.</param>
    /// <param name="cancellationToken">Cancels waiting for room in the send queue.</param>
    /// <returns><see langword="false"/> when the connection is closed.</returns>
    public ValueTask<bool> SendRequestsAsync(ReadOnlyMemory<BlockRequest> blocks, CancellationToken cancellationToken = default) =>
        SendCoreAsync(
            static (_, w, in blocks) =>
            {
                foreach (BlockRequest block in blocks.Span)
                {
                    MessageWriter.WriteBlock(w, MessageId.Request, block);
                }
            },
            blocks,
            cancellationToken);

    /// <summary>Sends our bitfield (only as the first message after the handshake).</summary>
    /// <param name="bitfield">⌈piece count / 8⌉ bytes, piece 0 in the high bit of byte 0, spare bits clear.</param>
    /// <param name="cancellationToken">Cancels waiting for room in the send queue.</param>
    /// <returns><see langword="false"/> when the connection is closed.</returns>
    public ValueTask<bool> SendBitfieldAsync(ReadOnlyMemory<byte> bitfield, CancellationToken cancellationToken = default) =>
        SendCoreAsync(static (_, w, in bits) => MessageWriter.WriteBitfield(w, bits.Span), bitfield, cancellationToken);

    /// <summary>
    /// Sends a block (a piece message). The block is copied into the send queue before the returned task completes,
    /// so the caller may return <paramref name="data"/>'s buffer to its pool as soon as it does.
    /// </summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="offset">The block's offset in the piece.</param>
    /// <param name="data">The block's bytes.</param>
    /// <param name="cancellationToken">Cancels waiting for room in the send queue.</param>
    /// <returns><see langword="false"/> when the connection is closed.</returns>
    public ValueTask<bool> SendPieceAsync(int piece, int offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        SendCoreAsync(static (_, w, in s) => MessageWriter.WritePiece(w, s.Piece, s.Offset, s.Data.Span), (Piece: piece, Offset: offset, Data: data), cancellationToken);

    /// <summary>Sends our DHT port (BEP 5).</summary>
    /// <param name="port">The port.</param>
    /// <param name="cancellationToken">Cancels waiting for room in the send queue.</param>
    /// <returns><see langword="false"/> when the connection is closed.</returns>
    public ValueTask<bool> SendPortAsync(ushort port, CancellationToken cancellationToken = default) =>
        SendCoreAsync(static (_, w, in port) => MessageWriter.WritePort(w, port), port, cancellationToken);

    /// <summary>Sends our BEP 10 extended handshake (usually <see cref="ExtensionHandshake.CreateLocal"/>).</summary>
    /// <param name="handshake">The handshake.</param>
    /// <param name="cancellationToken">Cancels waiting for room in the send queue.</param>
    /// <returns><see langword="false"/> when the connection is closed or the extension protocol was not negotiated.</returns>
    public ValueTask<bool> SendExtendedHandshakeAsync(ExtensionHandshake handshake, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(handshake);
        if (!SupportsExtensionProtocol)
        {
            return new ValueTask<bool>(false);
        }

        return SendCoreAsync(static (c, w, in h) => c.WriteExtended(w, 0, h, static (b, h) => h.WriteTo(b)), handshake, cancellationToken);
    }

    /// <summary>Sends a BEP 9 ut_metadata message under the id the peer gave ut_metadata.</summary>
    /// <param name="type">Request, data or reject.</param>
    /// <param name="piece">The metadata piece index.</param>
    /// <param name="totalSize">The info dictionary's size (data only).</param>
    /// <param name="data">The piece's bytes (data only).</param>
    /// <param name="cancellationToken">Cancels waiting for room in the send queue.</param>
    /// <returns><see langword="false"/> when the connection is closed or the peer does not speak ut_metadata.</returns>
    public ValueTask<bool> SendMetadataAsync(MetadataMessageType type, int piece, int totalSize, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(data.Length, MetadataMessage.PieceSize, nameof(data));
        if (_remoteUtMetadataId == 0)
        {
            return new ValueTask<bool>(false);
        }

        return SendCoreAsync(
            static (c, w, in s) => c.WriteExtended(w, c._remoteUtMetadataId, s, static (b, s) => MetadataMessage.Write(b, s.Type, s.Piece, s.TotalSize, s.Data.Span)),
            (Type: type, Piece: piece, TotalSize: totalSize, Data: data),
            cancellationToken);
    }

    /// <summary>Sends a BEP 11 ut_pex message under the id the peer gave ut_pex.</summary>
    /// <param name="message">The added and dropped peers.</param>
    /// <param name="cancellationToken">Cancels waiting for room in the send queue.</param>
    /// <returns><see langword="false"/> when the connection is closed or the peer does not speak ut_pex.</returns>
    public ValueTask<bool> SendPexAsync(PexMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (_remoteUtPexId == 0)
        {
            return new ValueTask<bool>(false);
        }

        return SendCoreAsync(static (c, w, in m) => c.WriteExtended(w, c._remoteUtPexId, m, static (b, m) => m.WriteTo(b)), message, cancellationToken);
    }

    /// <summary>Sends a BEP 52 <see cref="MessageId.HashRequest"/> or <see cref="MessageId.HashReject"/>.</summary>
    /// <param name="id">The message.</param>
    /// <param name="request">The fields.</param>
    /// <param name="cancellationToken">Cancels waiting for room in the send queue.</param>
    /// <returns><see langword="false"/> when the connection is closed.</returns>
    public ValueTask<bool> SendHashRequestAsync(MessageId id, HashRequest request, CancellationToken cancellationToken = default) =>
        SendCoreAsync(static (_, w, in s) => MessageWriter.WriteHashRequest(w, s.Id, s.Request), (Id: id, Request: request), cancellationToken);

    /// <summary>Sends a BEP 52 hashes message answering <paramref name="request"/>.</summary>
    /// <param name="request">The request answered.</param>
    /// <param name="hashes">The base-layer hashes, then the uncle hashes, 32 bytes each.</param>
    /// <param name="cancellationToken">Cancels waiting for room in the send queue.</param>
    /// <returns><see langword="false"/> when the connection is closed.</returns>
    public ValueTask<bool> SendHashesAsync(HashRequest request, ReadOnlyMemory<byte> hashes, CancellationToken cancellationToken = default) =>
        SendCoreAsync(static (_, w, in s) => MessageWriter.WriteHashes(w, s.Request, s.Hashes.Span), (Request: request, Hashes: hashes), cancellationToken);

    /// <summary>Wraps an accepted socket whose handshake <see cref="PeerListener"/> completed.</summary>
    internal static PeerConnection CreateIncoming(Socket socket, PeerHandshake local, PeerHandshake remote, PeerConnectionOptions options, ILogger? logger)
    {
        var connection = new PeerConnection(socket, local, remote, isIncoming: true, options, logger);
        connection.LogConnected();
        return connection;
    }

    internal static Socket CreateSocket(AddressFamily family, PeerConnectionOptions options)
    {
        var socket = new Socket(family, SocketType.Stream, ProtocolType.Tcp);
        ConfigureSocket(socket, options);
        return socket;
    }

    internal static void ConfigureSocket(Socket socket, PeerConnectionOptions options)
    {
        // Requests and small control messages must leave at once; bulk data fills segments anyway.
        socket.NoDelay = true;
        if (options.SocketReceiveBufferSize > 0)
        {
            socket.ReceiveBufferSize = options.SocketReceiveBufferSize;
        }

        if (options.SocketSendBufferSize > 0)
        {
            socket.SendBufferSize = options.SocketSendBufferSize;
        }
    }

    internal static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            int sent = await socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    internal static async Task ReceiveExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            int received = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (received == 0)
            {
                throw new PeerProtocolException(WireError.InvalidHandshake, $"The peer closed the connection during the handshake ({buffer.Length} bytes missing).");
            }

            buffer = buffer[received..];
        }
    }

    /// <summary>Turns the cancellation of an internal deadline into a <see cref="TimeoutException"/>.</summary>
    internal static async Task WithTimeout(Task operation, CancellationToken callerToken, string what)
    {
        try
        {
            await operation.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!callerToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{what} timed out.");
        }
    }

    internal static async Task WithTimeout(ValueTask operation, CancellationToken callerToken, string what) =>
        await WithTimeout(operation.AsTask(), callerToken, what).ConfigureAwait(false);

    private void LogConnected() =>
        Log.Connected(_logger, RemoteEndPoint, IsIncoming ? "incoming" : "outgoing", Encoding.ASCII.GetString(RemoteHandshake.PeerId[..8]), RemoteHandshake.Features);

    private void WriteExtended<TPayload>(IBufferWriter<byte> writer, byte extensionId, TPayload payload, Action<IBufferWriter<byte>, TPayload> write)
    {
        _extensionScratch.ResetWrittenCount();
        write(_extensionScratch, payload);
        MessageWriter.WriteExtended(writer, extensionId, _extensionScratch.WrittenSpan);
    }

    private ValueTask<bool> SendCoreAsync<TState>(MessageWrite<TState> write, TState state, CancellationToken cancellationToken)
    {
        if (_closed)
        {
            return new ValueTask<bool>(false);
        }

        // Uncontended: write and flush synchronously; a flush only waits when the send queue is full.
        return _sendLock.Wait(0, CancellationToken.None) ? WriteAndFlushAsync(write, state, cancellationToken) : SendAfterLockAsync(write, state, cancellationToken);
    }

    private async ValueTask<bool> SendAfterLockAsync<TState>(MessageWrite<TState> write, TState state, CancellationToken cancellationToken)
    {
        await _sendLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await WriteAndFlushAsync(write, state, cancellationToken).ConfigureAwait(false);
    }

    // Called holding _sendLock; releases it when the flush is done.
    private ValueTask<bool> WriteAndFlushAsync<TState>(MessageWrite<TState> write, TState state, CancellationToken cancellationToken)
    {
        bool release = true;
        try
        {
            if (_closed)
            {
                return new ValueTask<bool>(false);
            }

            write(this, _output.Writer, state);
            Volatile.Write(ref _lastSent, _time.GetTimestamp());
            ValueTask<FlushResult> flush = _output.Writer.FlushAsync(cancellationToken);
            if (flush.IsCompletedSuccessfully)
            {
                return new ValueTask<bool>(!flush.Result.IsCompleted);
            }

            release = false;
            return AwaitFlushAsync(flush);
        }
        finally
        {
            if (release)
            {
                _sendLock.Release();
            }
        }
    }

    private async ValueTask<bool> AwaitFlushAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            FlushResult result = await flush.ConfigureAwait(false);
            return !result.IsCompleted && !result.IsCanceled;
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task RunAsync()
    {
        Task receive = ReceiveLoopAsync();
        Task send = SendLoopAsync();
        await ProcessLoopAsync().ConfigureAwait(false);
        await receive.ConfigureAwait(false);
        await send.ConfigureAwait(false);
        await ShutDownAsync().ConfigureAwait(false);
    }

    private async Task ShutDownAsync()
    {
        _timer?.Dispose();
        _socket.Dispose();

        // No sender can be stuck in a flush: the send loop completed the output reader, which releases it.
        await _sendLock.WaitAsync().ConfigureAwait(false);
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        await _input.Reader.CompleteAsync().ConfigureAwait(false);
        _sendLock.Release();
        Log.Closed(_logger, RemoteEndPoint, CloseReason, CloseException);
        try
        {
            _handler?.OnClosed(this);
        }
        finally
        {
            _closing.Dispose();
            _completion.TrySetResult();
        }
    }

    private void CloseWith(PeerCloseReason reason, Exception? exception = null, WireError error = WireError.None)
    {
        if (Interlocked.Exchange(ref _closeState, 1) != 0)
        {
            return;
        }

        CloseReason = reason;
        CloseException = exception;
        ProtocolError = error;
        _closed = true;
        _timer?.Dispose();

        // Cancelling ends all three loops: pending socket calls and pipe reads return at once.
        _closing.Cancel();
    }

    private async Task ReceiveLoopAsync()
    {
        PipeWriter writer = _input.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                Memory<byte> memory = writer.GetMemory(_options.ReceiveChunkSize);
                int received = await _socket.ReceiveAsync(memory, SocketFlags.None, _closing.Token).ConfigureAwait(false);
                if (received == 0)
                {
                    break;
                }

                writer.Advance(received);
                Volatile.Write(ref _lastReceived, _time.GetTimestamp());
                Interlocked.Add(ref _bytesReceived, received);

                // Waits here while the process loop is behind by more than the pause threshold.
                FlushResult flush = await writer.FlushAsync(_closing.Token).ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Closed locally.
        }
        catch (SocketException e)
        {
            error = e;
        }
        catch (ObjectDisposedException)
        {
            // The socket was disposed by the close.
        }

        // The process loop sees the end of data (or the error) after the bytes already received.
        await writer.CompleteAsync(error).ConfigureAwait(false);
    }

    private async Task ProcessLoopAsync()
    {
        PipeReader reader = _input.Reader;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync(_closing.Token).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                WireReadStatus status = Dispatch(ref buffer);
                reader.AdvanceTo(buffer.Start, result.Buffer.End);
                if (status == WireReadStatus.ProtocolError)
                {
                    Log.ProtocolViolation(_logger, RemoteEndPoint, _reader.Error);
                    CloseWith(PeerCloseReason.ProtocolError, error: _reader.Error);
                    return;
                }

                if (result.IsCompleted)
                {
                    CloseWith(PeerCloseReason.RemoteClosed);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Closed: Close already recorded why.
        }
        catch (SocketException e)
        {
            CloseWith(PeerCloseReason.SocketError, e);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A handler or sink bug must cost this connection, never the engine.
            Log.HandlerFailed(_logger, RemoteEndPoint, e);
            CloseWith(PeerCloseReason.HandlerFailed, e);
        }
    }

    private async Task SendLoopAsync()
    {
        PipeReader reader = _output.Reader;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync(_closing.Token).ConfigureAwait(false);
                ReadOnlySequence<byte> buffer = result.Buffer;
                foreach (ReadOnlyMemory<byte> segment in buffer)
                {
                    ReadOnlyMemory<byte> rest = segment;
                    while (!rest.IsEmpty)
                    {
                        int sent = await _socket.SendAsync(rest, SocketFlags.None, _closing.Token).ConfigureAwait(false);
                        rest = rest[sent..];
                    }
                }

                Interlocked.Add(ref _bytesSent, buffer.Length);
                reader.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Closed locally.
        }
        catch (SocketException e)
        {
            CloseWith(PeerCloseReason.SocketError, e);
        }
        catch (ObjectDisposedException)
        {
            // The socket was disposed by the close.
        }
        finally
        {
            // Releases any sender waiting for room: its flush completes with IsCompleted.
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private WireReadStatus Dispatch(ref ReadOnlySequence<byte> buffer)
    {
        while (!_closed)
        {
            WireReadStatus status = _reader.TryRead(ref buffer);
            if (status == WireReadStatus.Message)
            {
                Handle(_reader.Current);
            }
            else if (status != WireReadStatus.KeepAlive)
            {
                return status;
            }
        }

        return WireReadStatus.NeedMoreData;
    }

    private void Handle(PeerMessage m)
    {
        IPeerMessageHandler handler = _handler!;
        switch (m.Id)
        {
            case MessageId.Piece:
                if (_sink!.TryGetDestination(this, m.Piece, m.Offset, m.Length, out Memory<byte> destination) && destination.Length >= m.Length)
                {
                    // The one copy: from the receive buffer into the piece buffer.
                    m.Payload.CopyTo(destination.Span);
                    Interlocked.Increment(ref _blocksReceived);
                    _sink.OnBlockReceived(this, m.Piece, m.Offset, m.Length);
                }
                else
                {
                    Interlocked.Increment(ref _unsolicitedBlocks);
                }

                break;
            case MessageId.Choke:
                handler.OnChoke(this);
                break;
            case MessageId.Unchoke:
                handler.OnUnchoke(this);
                break;
            case MessageId.Interested:
                handler.OnInterested(this);
                break;
            case MessageId.NotInterested:
                handler.OnNotInterested(this);
                break;
            case MessageId.Have:
                handler.OnHave(this, m.Piece);
                break;
            case MessageId.Bitfield:
                handler.OnBitfield(this, m.Payload);
                break;
            case MessageId.Request:
                handler.OnRequest(this, m.Block);
                break;
            case MessageId.Cancel:
                handler.OnCancel(this, m.Block);
                break;
            case MessageId.Port:
                handler.OnPort(this, m.Port);
                break;
            case MessageId.SuggestPiece:
                handler.OnSuggestPiece(this, m.Piece);
                break;
            case MessageId.HaveAll:
                handler.OnHaveAll(this);
                break;
            case MessageId.HaveNone:
                handler.OnHaveNone(this);
                break;
            case MessageId.RejectRequest:
                handler.OnRejectRequest(this, m.Block);
                break;
            case MessageId.AllowedFast:
                handler.OnAllowedFast(this, m.Piece);
                break;
            case MessageId.Extended:
                HandleExtended(handler, m.ExtensionId, m.Payload);
                break;
            case MessageId.HashRequest:
                handler.OnHashRequest(this, m.Hashes);
                break;
            case MessageId.Hashes:
                handler.OnHashes(this, m.Hashes, m.Payload);
                break;
            case MessageId.HashReject:
                handler.OnHashReject(this, m.Hashes);
                break;
        }
    }

    private void HandleExtended(IPeerMessageHandler handler, byte extensionId, ReadOnlySequence<byte> payload)
    {
        switch (extensionId)
        {
            case 0:
                ExtensionHandshake? handshake = Contiguous(payload, static span => ExtensionHandshake.TryParse(span));
                if (handshake is null)
                {
                    ExtensionFailed();
                    return;
                }

                // A later handshake updates only the extensions it names (an id of 0 disables one).
                if (handshake.Extensions.TryGetValue("ut_metadata", out byte metadataId))
                {
                    _remoteUtMetadataId = metadataId;
                }

                if (handshake.Extensions.TryGetValue("ut_pex", out byte pexId))
                {
                    _remoteUtPexId = pexId;
                }

                RemoteExtensions = handshake;
                handler.OnExtendedHandshake(this, handshake);
                break;
            case ExtensionHandshake.LocalUtMetadataId:
                if (!MetadataMessage.TryParse(payload, out MetadataMessage metadata))
                {
                    ExtensionFailed();
                    return;
                }

                handler.OnMetadata(this, metadata);
                break;
            case ExtensionHandshake.LocalUtPexId:
                PexMessage? pex = Contiguous(payload, static span => PexMessage.TryParse(span));
                if (pex is null)
                {
                    ExtensionFailed();
                    return;
                }

                handler.OnPex(this, pex);
                break;
            default:
                Log.UnknownExtension(_logger, RemoteEndPoint, extensionId);
                break;
        }
    }

    private void ExtensionFailed()
    {
        Log.ProtocolViolation(_logger, RemoteEndPoint, WireError.InvalidExtensionMessage);
        CloseWith(PeerCloseReason.ProtocolError, error: WireError.InvalidExtensionMessage);
    }

    private delegate T? SpanParser<T>(ReadOnlySpan<byte> span) where T : class;

    // Extension messages are rare and bounded: parse in place when contiguous, else from a pooled copy.
    private static T? Contiguous<T>(ReadOnlySequence<byte> payload, SpanParser<T> parse) where T : class
    {
        if (payload.IsSingleSegment)
        {
            return parse(payload.FirstSpan);
        }

        byte[] rented = ArrayPool<byte>.Shared.Rent((int)payload.Length);
        try
        {
            payload.CopyTo(rented);
            return parse(rented.AsSpan(0, (int)payload.Length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void OnTimer()
    {
        long now = _time.GetTimestamp();
        if (_time.GetElapsedTime(Volatile.Read(ref _lastReceived), now) >= _options.IdleTimeout)
        {
            CloseWith(PeerCloseReason.IdleTimeout);
            return;
        }

        if (_time.GetElapsedTime(Volatile.Read(ref _lastSent), now) >= _options.KeepAliveInterval)
        {
            _ = SendKeepAliveAsync();
        }
    }

    private async Task SendKeepAliveAsync() =>
        await SendCoreAsync(static (_, w, in _) => MessageWriter.WriteKeepAlive(w), 0, CancellationToken.None).ConfigureAwait(false);
}

using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using BlockTorrent.Swarm.Bandwidth;
using BlockTorrent.Swarm.Connections;
using BlockTorrent.Swarm.Extensions;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm;

/// <summary>
/// One peer connection after the handshake: a receive loop that parses messages and reports them to the swarm, a
/// send loop that is the only writer of the socket (control messages, requests and uploaded blocks, in order), and a
/// <see cref="RequestPump"/> that keeps the peer's request pipeline full.
/// </summary>
/// <remarks>
/// The session knows the swarm only as an <see cref="ISessionHost"/>, whose members take the swarm's lock
/// themselves; block bytes are copied into the piece buffer outside the lock, under the picker's receive claim.
/// </remarks>
internal sealed class PeerSession : IChokeable, IExtensionPeer, IConnectionHandler<Outgoing>
{
    private const int MaxUnsolicitedBlocks = 512;
    private const int MaxInvalidRequests = 256;

    // Rejects of requests we refuse a peer can make us queue faster than it reads them (the extensions limit their
    // own replies). Past the limit the peer is not reading, and it is dropped instead of growing the send queue.
    private const int MaxPendingRejects = 2 * TorrentSwarm.RequestQueueLimit;

    private static readonly byte[] ZeroBlock = new byte[PiecePicker.BlockSize];

    private readonly ISessionHost _host;
    private readonly PeerConnection<Outgoing> _connection;
    private readonly MessageReader _reader = new();

    // Present when uploads are capped: the send loop waits here for the bucket before each block.
    private readonly RateDelay? _uploadDelay;

    // Requests the peer made that we have not served yet (under its own lock: the receive loop adds, the send loop
    // takes, a choke clears). A HashSet reuses its slots, so a steady upload allocates nothing per request.
    private readonly HashSet<BlockRequest> _pendingUploads = [];
    private int _unsolicited;
    private int _invalidRequests;
    private readonly int[] _pendingReplies;
    private int _pendingRejects;
    private bool _blocksArrived;
    private long _downloaded;
    private long _uploaded;
    private long _rateDownloaded;
    private long _rateUploaded;
    private long _shareUploaded;
    private double _shareRate;
    private TimeSpan _shareReceiveWindowLimited;

    public PeerSession(ISessionHost swarm, Socket socket, Stream stream, PeerHandshake remote, bool outgoing, CancellationToken cancellationToken)
    {
        _host = swarm;
        // The socket's own stream, or TLS over it (SwarmTls); either way the stream owns the socket.
        _connection = new PeerConnection<Outgoing>(socket, stream, swarm.Time, swarm.Logger, cancellationToken);
        Remote = _connection.Remote;
        PeerId = remote.PeerId.ToArray();
        IsOutgoing = outgoing;
        Fast = (remote.Features & HandshakeFeatures.Fast) != 0;
        Extensions = (remote.Features & HandshakeFeatures.ExtensionProtocol) != 0;
        _reader.FastExtension = Fast;
        _reader.ExtensionProtocol = Extensions;
        _reader.PieceCount = swarm.PieceCount;
        Pick = new PickerPeer(swarm.PieceCount);
        Requests = new RequestPump(this, swarm);
        _pendingReplies = new int[swarm.Extensions.All.Count];
        LastProgress = LastUseful = swarm.Time.GetTimestamp();
        SameHost = PeerAddress.IsSameHost(socket.LocalEndPoint as IPEndPoint, Remote);
        _uploadDelay = swarm.Upload.IsLimited ? new RateDelay(swarm.Time) : null;
    }

    public IPEndPoint Remote { get; }

    /// <summary>Gets or sets where a peer that dialled us listens (from its extended handshake), or null.</summary>
    public IPEndPoint? ListenEndPoint { get; set; }

    /// <summary>Gets where the peer accepts connections: the address we dialled, or its address and the port it announced.</summary>
    public IPEndPoint? ReachableAt => IsOutgoing ? Remote : ListenEndPoint;

    /// <summary>Gets a value indicating whether the peer has every piece (read under the swarm's lock).</summary>
    public bool IsSeed => Pick.Has.IsFull;

    public byte[] PeerId { get; }

    public bool IsOutgoing { get; }

    public bool Fast { get; }

    public bool Extensions { get; }

    public PickerPeer Pick { get; }

    /// <summary>Gets the request pump.</summary>
    public RequestPump Requests { get; }

    /// <summary>Gets the request pipeline's depth.</summary>
    public RequestQueue Queue => Requests.Queue;

    /// <summary>Gets or sets a value indicating whether the peer said which pieces it has (set under the swarm's lock).</summary>
    public bool GotPieces { get; set; }

    public ExtensionHandshake? RemoteExtensions { get; private set; }

    public bool AmChoking { get; private set; } = true;

    public bool AmInterested { get; private set; }

    public bool IsInterested { get; private set; }

    public bool Unchoked { get; set; }

    public double DownloadRate { get; private set; }

    public double UploadRate { get; private set; }

    public long Downloaded => Interlocked.Read(ref _downloaded);

    public long Uploaded => Interlocked.Read(ref _uploaded);

    /// <summary>Gets or sets the time of the last byte received.</summary>
    public long LastReceived => _connection.LastReceived;

    public long LastSent => _connection.LastSent;

    /// <summary>Gets or sets when the request pipeline last moved (a block arrived, or requests went out from empty).</summary>
    public long LastProgress { get; set; }

    public int Stalls { get; set; }

    /// <summary>Gets when piece data last moved either way (connecting counts; set once a second by <see cref="UpdateRates"/>).</summary>
    public long LastUseful { get; private set; }

    /// <summary>Gets a value indicating whether the peer is on this machine (both ends of the connection share an address).</summary>
    public bool SameHost { get; }

    /// <summary>Gets a value indicating whether we dialled the peer from a trusted source (a reserved slot; <see cref="ConnectionSlots"/>).</summary>
    public bool Reserved { get; init; }

    /// <summary>Gets or sets a value indicating whether a newcomer took the peer's slot (it is closing; set under the swarm's lock).</summary>
    public bool Evicted { get; set; }

    public int HashFailures { get; set; }

    /// <summary>Gets what super-seeding knows about this peer (its offers and pacing), when we super-seed.</summary>
    public SuperSeeder.Peer? Seeding { get; set; }

    /// <summary>Gets or sets the decoder window the peer told us last (a stream target; <c>bt_stream_window</c>), under the swarm's lock.</summary>
    public StreamWindowMessage? RemoteWindow { get; set; }

    public bool IsClosed => _connection.IsClosed;

    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Starts the loops; <see cref="Completion"/> completes when the connection is gone.</summary>
    public void Start()
    {
        Completion = Task.WhenAll(
            _connection.Start(this),
            Task.Run(() => Requests.RunAsync(_connection.Closing)));
    }

    /// <summary>Queues a message.</summary>
    public void Send(Outgoing message) => _connection.Send(message);

    /// <summary>Queues a keep-alive when nothing is queued or being written and nothing was sent for <paramref name="interval"/>.</summary>
    /// <param name="now">The time now.</param>
    /// <param name="interval">The idle interval, in timestamp ticks.</param>
    public void SendKeepAliveIfIdle(long now, long interval) => _connection.SendIfIdle(new Outgoing(MessageId.Choke, KeepAlive: true), now, interval);

    /// <inheritdoc/>
    public void SendExtended(byte remoteId, byte[] payload) => Send(new Outgoing(MessageId.Extended, Payload: payload, ExtensionId: remoteId));

    /// <inheritdoc/>
    public bool TryQueueReply(PeerExtension owner, Outgoing reply, int limit)
    {
        if (Interlocked.Increment(ref _pendingReplies[owner.Index]) > limit)
        {
            return false;
        }

        Send(reply with { Extension = owner });
        return true;
    }

    /// <summary>Queues a reject of a request (counted while it waits).</summary>
    /// <param name="block">The request refused.</param>
    public void SendReject(BlockRequest block)
    {
        Interlocked.Increment(ref _pendingRejects);
        Send(new Outgoing(MessageId.RejectRequest, block));
    }

    /// <summary>Wakes the request pump (something may be requestable now).</summary>
    public void Signal() => Requests.Signal();

    /// <summary>Sends choke or unchoke when the choker's decision differs from the current state.</summary>
    public void ApplyChokeDecision()
    {
        if (Unchoked == !AmChoking)
        {
            return;
        }

        AmChoking = !Unchoked;
        Send(new Outgoing(AmChoking ? MessageId.Choke : MessageId.Unchoke));
        if (AmChoking)
        {
            // BEP 3: choking discards the peer's queued requests; with the fast extension each is rejected.
            lock (_pendingUploads)
            {
                if (Fast)
                {
                    foreach (BlockRequest block in _pendingUploads)
                    {
                        SendReject(block);
                    }
                }

                _pendingUploads.Clear();
            }
        }
    }

    /// <summary>Updates whether we are interested in the peer and says so when it changed.</summary>
    public void UpdateInterest(bool interested)
    {
        if (interested == AmInterested)
        {
            return;
        }

        AmInterested = interested;
        Send(new Outgoing(interested ? MessageId.Interested : MessageId.NotInterested));
    }

    /// <summary>Rolls the transfer counters into the rates (called once a second or so).</summary>
    public void UpdateRates(double seconds)
    {
        long down = Downloaded;
        long up = Uploaded;
        double upNow = (up - _rateUploaded) / seconds;
        DownloadRate = (DownloadRate * 0.5) + ((down - _rateDownloaded) / seconds * 0.5);
        UploadRate = (UploadRate * 0.5) + (upNow * 0.5);
        _connection.UpdateUnsentLimit(Math.Max(upNow, UploadRate));
        long now = _host.Time.GetTimestamp();
        if (down != _rateDownloaded || up != _rateUploaded)
        {
            LastUseful = now;
        }

        _rateDownloaded = down;
        _rateUploaded = up;
        if (_connection.TryGetRoundTrip(out TimeSpan roundTrip))
        {
            Queue.RoundTrip = roundTrip;
        }

        Queue.Tick(now);
    }

    /// <summary>
    /// Measures the upload since the last call, and whether our side held it back, for a super-seed's even shares
    /// (<see cref="UploadShares"/>). A connection the receiver's window held back for over a tenth of the interval
    /// was not held back here.
    /// </summary>
    /// <param name="seconds">The seconds since the last call.</param>
    /// <returns>The share.</returns>
    public UploadShare SampleUploadShare(double seconds)
    {
        long up = Uploaded;
        double rate = (up - _shareUploaded) / seconds;
        _shareUploaded = up;

        // Smoothed over about a second: a connection's writes come in bursts of its unsent-data limit.
        _shareRate = _shareRate == 0 ? rate : (_shareRate * (1 - UploadShares.Smoothing)) + (rate * UploadShares.Smoothing);
        bool held = false;
        if (_connection.TryGetSendState(out SendState state))
        {
            TimeSpan receiveLimited = state.ReceiveWindowLimited - _shareReceiveWindowLimited;
            _shareReceiveWindowLimited = state.ReceiveWindowLimited;
            held = state.HeldHere && receiveLimited.TotalSeconds < seconds / 10;
        }

        return new UploadShare(_shareRate, held);
    }

    /// <summary>Caps the connection's upload rate (Linux pacing), or lifts the cap (<see cref="double.PositiveInfinity"/>).</summary>
    /// <param name="bytesPerSecond">The cap.</param>
    public void SetUploadCap(double bytesPerSecond) => _connection.SetUploadCap(bytesPerSecond);

    /// <summary>Closes the connection (once) and tells the swarm.</summary>
    /// <param name="reason">Why.</param>
    public void Close(string reason) => _connection.Close(reason);

    /// <inheritdoc/>
    void IConnectionHandler<Outgoing>.OnClosed(string reason)
    {
        Log.PeerDisconnected(_host.Logger, Remote, reason);
        Requests.Complete();
        _uploadDelay?.Dispose();
        _host.OnClosed(this, reason);
    }

    /// <inheritdoc/>
    string? IConnectionHandler<Outgoing>.OnReceived(ref ReadOnlySequence<byte> buffer)
    {
        while (true)
        {
            WireReadStatus status = _reader.TryRead(ref buffer);
            if (status == WireReadStatus.NeedMoreData)
            {
                return null;
            }

            if (status == WireReadStatus.ProtocolError)
            {
                return $"protocol error: {_reader.Error}";
            }

            if (status == WireReadStatus.Message && Handle(_reader.Current) is { } error)
            {
                return error;
            }
        }
    }

    /// <inheritdoc/>
    long IConnectionHandler<Outgoing>.MissingBytes => _reader.MissingBytes;

    /// <inheritdoc/>
    void IConnectionHandler<Outgoing>.OnReceiveBatchEnd()
    {
        if (_blocksArrived)
        {
            _blocksArrived = false;
            Requests.RefillAfterBlocks();
        }
    }

    /// <inheritdoc/>
    bool IConnectionHandler<Outgoing>.IsBulk(in Outgoing message) => message.Id == MessageId.Piece;

    /// <inheritdoc/>
    public ValueTask<int> WriteAsync(PipeWriter output, Outgoing m, CancellationToken cancellationToken)
    {
        if (!m.KeepAlive)
        {
            switch (m.Id)
            {
                case MessageId.Piece:
                    // Not awaited here: the send loop awaits the block's own task, so no second state machine.
                    return WriteBlockAsync(output, m.Block, cancellationToken);
                case MessageId.Hashes:
                    Interlocked.Decrement(ref _pendingReplies[m.Extension!.Index]);
                    return m.Extension.WriteReplyAsync(output, m, cancellationToken);
                case MessageId.RejectRequest:
                    Interlocked.Decrement(ref _pendingRejects);
                    break;
                case MessageId.HashRequest or MessageId.Extended when m.Extension is { } owner:
                    Interlocked.Decrement(ref _pendingReplies[owner.Index]);
                    break;
            }
        }

        return ValueTask.FromResult(m.WriteTo(output));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> WriteBlockAsync(PipeWriter output, BlockRequest block, CancellationToken ct)
    {
        if (!TryTakeUpload(block))
        {
            return 0; // cancelled, or discarded by a choke
        }

        if (_uploadDelay is not null)
        {
            // The block waits its turn in the bucket shared by every connection (control messages still go out
            // between blocks, as the send loop reads them before each one).
            await _uploadDelay.WaitAsync(_host.Upload.Take(13 + block.Length), ct).ConfigureAwait(false);
        }

        if (_host.IsZeroPiece(block.Piece))
        {
            MessageWriter.WritePiece(output, block.Piece, block.Offset, ZeroBlock.AsSpan(0, block.Length));
        }
        else
        {
            using PieceReadCache.Lease lease = await _host.ReadPieceAsync(block.Piece, ct).ConfigureAwait(false);
            if (!lease.IsValid)
            {
                if (Fast)
                {
                    MessageWriter.WriteBlock(output, MessageId.RejectRequest, block);
                }

                return 17;
            }

            ReadOnlySpan<byte> piece = lease.Span;
            if (block.Offset + block.Length <= piece.Length)
            {
                MessageWriter.WritePiece(output, block.Piece, block.Offset, piece.Slice(block.Offset, block.Length));
            }
            else
            {
                // A v2 peer asking for the whole last leaf of the image: the bytes past the end read as zeros.
                byte[] padded = ArrayPool<byte>.Shared.Rent(block.Length);
                padded.AsSpan(0, block.Length).Clear();
                piece[block.Offset..].CopyTo(padded);
                MessageWriter.WritePiece(output, block.Piece, block.Offset, padded.AsSpan(0, block.Length));
                ArrayPool<byte>.Shared.Return(padded);
            }
        }

        Interlocked.Add(ref _uploaded, block.Length);
        _host.CountUpload(block.Length);
        return 13 + block.Length;
    }

    /// <summary>Handles one message; returns a reason to close, or null.</summary>
    private string? Handle(PeerMessage m)
    {
        switch (m.Id)
        {
            case MessageId.Choke:
                _host.OnChoked(this);
                return null;

            case MessageId.Unchoke:
                _host.OnUnchoked(this);
                Signal();
                return null;

            case MessageId.Interested:
            case MessageId.NotInterested:
                IsInterested = m.Id == MessageId.Interested;
                _host.OnInterestChanged();
                return null;

            case MessageId.Have:
                _host.OnHave(this, m.Piece);
                Signal();
                return null;

            case MessageId.Bitfield:
            case MessageId.HaveAll:
            case MessageId.HaveNone:
                string? error = _host.OnPieces(this, m);
                if (error is null)
                {
                    Signal();
                }

                return error;

            case MessageId.Request:
                return OnRequest(m.Block);

            case MessageId.Cancel:
                if (TryTakeUpload(m.Block) && Fast)
                {
                    SendReject(m.Block);
                }

                return null;

            case MessageId.Piece:
                return OnBlock(m);

            case MessageId.RejectRequest:
                _host.OnRejected(this, m.Block);
                Signal();
                return null;

            case MessageId.AllowedFast:
                _host.OnAllowedFast(this, m.Piece);
                Signal();
                return null;

            case MessageId.Extended:
                return OnExtended(m);

            default:
                // BEP 52 hash requests go to their extension; port, suggest piece, hashes and hash reject: nothing to do.
                return _host.Extensions.For(m)?.OnMessage(this, m);
        }
    }

    private string? OnRequest(BlockRequest block)
    {
        bool valid = !AmChoking && _host.CanServe(this, block);

        bool added = false;
        if (valid)
        {
            lock (_pendingUploads)
            {
                valid = _pendingUploads.Count < _host.AdvertisedRequestQueue;
                added = valid && _pendingUploads.Add(block);
            }
        }

        if (!valid)
        {
            Log.RequestRefused(_host.Logger, Remote, block.Piece, block.Offset, block.Length, AmChoking, _host.Has(block.Piece));
            if (Fast)
            {
                if (Volatile.Read(ref _pendingRejects) >= MaxPendingRejects)
                {
                    return "sends requests we refuse faster than it reads the rejects";
                }

                SendReject(block);
            }

            return ++_invalidRequests > MaxInvalidRequests && !AmChoking ? "too many invalid requests" : null;
        }

        if (added)
        {
            Send(new Outgoing(MessageId.Piece, block));
        }

        return null;
    }

    private bool TryTakeUpload(BlockRequest block)
    {
        lock (_pendingUploads)
        {
            return _pendingUploads.Remove(block);
        }
    }

    private string? OnBlock(PeerMessage m)
    {
        var block = new BlockRequest(m.Piece, m.Offset, m.Length);
        Memory<byte> destination = _host.BeginBlock(this, block);

        if (destination.IsEmpty)
        {
            _host.CountWasted(block.Length);
            return ++_unsolicited > MaxUnsolicitedBlocks ? "too many blocks we did not ask for" : null;
        }

        // A block we asked for pays back one we did not: an honest peer's few late blocks (after a choke, a cancel or
        // a stall released them) never add up, while a peer sending mostly blocks nobody asked for is dropped.
        if (_unsolicited > 0)
        {
            _unsolicited--;
        }

        m.Payload.CopyTo(destination.Span);
        Interlocked.Add(ref _downloaded, block.Length);
        _host.EndBlock(this, block);

        _host.CountDownload(block.Length);
        _blocksArrived = true;
        return null;
    }

    private string? OnExtended(PeerMessage m)
    {
        if (m.ExtensionId == 0)
        {
            if (!ExtensionHandshake.TryParse(m.Payload.ToArray(), RemoteExtensions, out ExtensionHandshake handshake))
            {
                return "an invalid extended handshake";
            }

            RemoteExtensions = handshake;

            _host.OnExtendedHandshake(this, handshake);
            _host.Extensions.OnHandshake(this, handshake);
            return null;
        }

        return _host.Extensions.For(m)?.OnMessage(this, m);
    }
}

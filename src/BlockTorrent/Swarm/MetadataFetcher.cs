using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading.Channels;
using BlockTorrent.Manifest;
using BlockTorrent.Swarm.Connections;
using BlockTorrent.Swarm.Extensions;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm;

/// <summary>
/// Gets a torrent's info dictionary from peers for a magnet link (BEP 9 ut_metadata), and for a v2 torrent its
/// piece layer (BEP 52 hash requests), so that a deployment can start from the info-hash alone.
/// </summary>
/// <remarks>
/// <para>
/// Several peers are tried at once (at most <see cref="MaxParallelPeers"/>); the first that delivers metadata
/// hashing to the info-hash wins. Nothing a peer says is trusted: a <c>metadata_size</c> above the limit is
/// refused before anything is allocated, every piece must be exactly where and as long as the announced size
/// makes it, and an info dictionary that does not hash to the info-hash (or a piece layer that does not lead to
/// the pieces root) bans the peer (its listen endpoint: we only dial out) for the rest of the fetch.
/// </para>
/// <para>Peers come from <see cref="AddCandidates(IEnumerable{IPEndPoint}, IPAddress)"/> (the magnet link, the caller, trackers, LSD) and from PEX.</para>
/// </remarks>
internal sealed class MetadataFetcher
{
    /// <summary>The most peers asked at once.</summary>
    public const int MaxParallelPeers = 8;

    /// <summary>The most peers remembered (from every source together).</summary>
    public const int MaxCandidates = 1000;

    /// <summary>The most base-layer hashes asked for in one BEP 52 hash request (libtorrent's limit too).</summary>
    public const int MaxHashesPerRequest = 512;

    // Metadata pieces requested ahead from one peer.
    private const int PipelinedRequests = 4;

    // Attempts at a peer that failed in a way that may pass (not reachable yet, torrent not loaded yet, hung up).
    private const int MaxAttempts = 6;

    private static readonly TimeSpan PeerTimeout = TimeSpan.FromSeconds(30);

    private readonly ISwarmHost _host;
    private readonly InfoHash? _v1;
    private readonly InfoHash? _v2;
    private readonly byte[] _handshakeHash;
    private readonly byte[]? _alternateHash;
    private readonly HandshakeFeatures _features;
    private readonly int _maxSize;
    private readonly Channel<IPEndPoint> _queue = Channel.CreateUnbounded<IPEndPoint>();
    private readonly Dictionary<IPEndPoint, int> _known = [];

    // The peers only PEX named, with the address of the peer that named each: the deployment takes them as PEX names.
    private readonly Dictionary<IPEndPoint, IPAddress> _exchanged = [];
    private readonly HashSet<IPEndPoint> _banned = [];
    private readonly Queue<string> _failures = new();
    private readonly TaskCompletionSource<Result> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _extensionHandshake;
    private readonly ExtensionRegistry _extensions = new();

    /// <summary>Initializes a new fetcher.</summary>
    /// <param name="host">Our peer id, listen port, clock and logger.</param>
    /// <param name="v1">The v1 info-hash, if the magnet link has one.</param>
    /// <param name="v2">The v2 info-hash, if the magnet link has one.</param>
    /// <param name="maxSize">The largest info dictionary accepted, in bytes.</param>
    public MetadataFetcher(ISwarmHost host, InfoHash? v1, InfoHash? v2, int maxSize)
    {
        if (v1 is null && v2 is null)
        {
            throw new ArgumentException("A magnet link needs a v1 or a v2 info-hash.", nameof(v1));
        }

        _host = host;
        _v1 = v1;
        _v2 = v2;
        _maxSize = maxSize;
        _handshakeHash = (v1 ?? v2)!.Value.Truncated20.ToArray();
        _alternateHash = v1 is not null && v2 is { } hash2 ? hash2.Truncated20.ToArray() : null;

        // The v2 upgrade bit only when we know the torrent has v2 metadata (libtorrent drops v1 connections with it).
        _features = v2 is null ? PeerHandshake.DefaultFeatures & ~HandshakeFeatures.V2 : PeerHandshake.DefaultFeatures;
        Name = (v1 ?? v2)!.Value.ToHex();

        // The swarm's way of negotiating extensions: ut_metadata asked for (answers go to the session that asked), and
        // ut_pex told of peers, never telling (the swarm's handler, never ticked). Neither keeps state per peer that
        // would need OnPeerClosed.
        _extensions.Add(new MetadataClient());
        _extensions.Add(new PeerExchange(AddExchangedCandidates, long.MaxValue, _host.Time, PexMessage.MaxPeersPerList));
        _extensionHandshake = _extensions.EncodeHandshake(0, host.ListenPort, TorrentSwarm.RequestQueueLimit);
    }

    /// <summary>Gets the info-hash the fetch is for, in hex.</summary>
    public string Name { get; }

    /// <summary>Gets every peer heard of so far and not banned.</summary>
    public IReadOnlyList<IPEndPoint> KnownPeers
    {
        get
        {
            lock (_known)
            {
                return [.. _known.Keys.Where(p => !_banned.Contains(p))];
            }
        }
    }

    /// <summary>Gets the peers the user, a tracker or LSD named, not banned (to hand to the deployment that follows).</summary>
    public IReadOnlyList<IPEndPoint> NamedPeers
    {
        get
        {
            lock (_known)
            {
                return [.. _known.Keys.Where(p => !_banned.Contains(p) && !_exchanged.ContainsKey(p))];
            }
        }
    }

    /// <summary>
    /// Gets the peers only PEX named, not banned, each with the address of the peer that named it: the deployment that
    /// follows takes them as PEX names, never into the slots kept for trusted sources.
    /// </summary>
    public IReadOnlyList<(IPEndPoint Peer, IPAddress Source)> ExchangedPeers
    {
        get
        {
            lock (_known)
            {
                return [.. _exchanged.Where(p => !_banned.Contains(p.Key)).Select(p => (p.Key, p.Value))];
            }
        }
    }

    /// <summary>Gets why peers failed so far, most recent last (at most ten).</summary>
    public IReadOnlyList<string> Failures
    {
        get
        {
            lock (_known)
            {
                return [.. _failures];
            }
        }
    }

    /// <summary>Adds peers the user named to ask.</summary>
    /// <param name="peers">Their addresses.</param>
    public void AddCandidates(IEnumerable<IPEndPoint> peers) => AddCandidates(peers, source: null);

    /// <summary>Adds peers to ask, unless <see cref="PeerAddress.Rejects"/> them as the swarm would.</summary>
    /// <param name="peers">Their addresses.</param>
    /// <param name="source">The address of the host that named them (a tracker, an LSD announcer, a peer by PEX), or null for the user's own.</param>
    public void AddCandidates(IEnumerable<IPEndPoint> peers, IPAddress? source) => Add(peers, source, exchanged: false);

    /// <summary>Adds peers a peer named by PEX to ask, filtered by its address.</summary>
    /// <param name="from">The peer that named them.</param>
    /// <param name="peers">Their addresses.</param>
    internal void AddExchangedCandidates(IPEndPoint from, IEnumerable<IPEndPoint> peers) => Add(peers, from.Address, exchanged: true);

    private void Add(IEnumerable<IPEndPoint> peers, IPAddress? source, bool exchanged)
    {
        lock (_known)
        {
            foreach (IPEndPoint peer in peers)
            {
                if (PeerAddress.Rejects(peer, source, _host.ListenPort) is { } reason)
                {
                    SwarmMetrics.CandidatesRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));
                    continue;
                }

                if (_known.ContainsKey(peer))
                {
                    if (!exchanged)
                    {
                        _exchanged.Remove(peer);
                    }
                }
                else if (_known.Count < MaxCandidates)
                {
                    _known.Add(peer, 0);
                    if (exchanged)
                    {
                        _exchanged[peer] = source!;
                    }

                    _queue.Writer.TryWrite(peer);
                }
            }
        }
    }

    /// <summary>Asks peers until one delivers.</summary>
    /// <param name="cancellationToken">Stops the fetch.</param>
    /// <returns>The verified info dictionary, and the piece layer when the torrent needs one.</returns>
    public async Task<Result> RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var attempts = new List<Task>();
        using var slots = new SemaphoreSlim(MaxParallelPeers);
        Task dispatch = Task.Run(
            async () =>
            {
                while (await _queue.Reader.WaitToReadAsync(stop.Token).ConfigureAwait(false))
                {
                    while (_queue.Reader.TryRead(out IPEndPoint? peer))
                    {
                        await slots.WaitAsync(stop.Token).ConfigureAwait(false);
                        lock (attempts)
                        {
                            attempts.RemoveAll(t => t.IsCompleted);
                            attempts.Add(AttemptAsync(peer, slots, stop.Token));
                        }
                    }
                }
            },
            CancellationToken.None);
        try
        {
            return await _result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            _queue.Writer.TryComplete();
            try
            {
                await dispatch.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }

            Task[] pending;
            lock (attempts)
            {
                pending = [.. attempts];
            }

            await Task.WhenAll(pending).ConfigureAwait(false);
        }
    }

    private async Task AttemptAsync(IPEndPoint peer, SemaphoreSlim slots, CancellationToken cancellationToken)
    {
        string? failure;
        bool retry = true;
        try
        {
            lock (_known)
            {
                if (_banned.Contains(peer))
                {
                    return;
                }
            }

            using var deadline = new CancellationTokenSource(PeerTimeout, _host.Time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            var ours = new PeerHandshake(_features, _handshakeHash, _host.PeerId.Span);
            (Socket socket, Stream stream, PeerHandshake? remote) = await PeerDialer.DialAsync(peer, _host.Settings.TcpCongestionControl, ours, secure: null, timeout.Token).ConfigureAwait(false);
            using (socket)
            await using (stream.ConfigureAwait(false))
            {
                var session = new Session(this, peer);
                failure = await session.RunAsync(socket, stream, remote, timeout.Token).ConfigureAwait(false);
                retry = !session.Final;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return;
        }
        catch (OperationCanceledException)
        {
            failure = "timed out";
        }
        catch (SocketException e)
        {
            failure = e.SocketErrorCode.ToString();
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException)
        {
            failure = e.Message;
        }
        finally
        {
            slots.Release();
        }

        if (failure is null)
        {
            return;
        }

        Log.MetadataPeerFailed(_host.Logger, peer, failure);
        int attempts;
        lock (_known)
        {
            _failures.Enqueue($"{peer}: {failure}");
            if (_failures.Count > 10)
            {
                _failures.Dequeue();
            }

            attempts = _known[peer] = _known.GetValueOrDefault(peer) + 1;
        }

        if (retry && attempts < MaxAttempts)
        {
            // A peer that may do better (a seed still starting) is tried again, later each time.
            _ = RetryLaterAsync(peer, TimeSpan.FromMilliseconds(250 << attempts), cancellationToken);
        }
    }

    private async Task RetryLaterAsync(IPEndPoint peer, TimeSpan delay, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(delay, _host.Time, cancellationToken).ConfigureAwait(false);
            _queue.Writer.TryWrite(peer);
        }
        catch (OperationCanceledException)
        {
            // The fetch is over.
        }
    }

    private void Ban(IPEndPoint peer)
    {
        lock (_known)
        {
            _banned.Add(peer);
        }
    }

    /// <summary>Checks that an info dictionary hashes to every info-hash the magnet link names.</summary>
    private bool Verify(ReadOnlySpan<byte> info)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        if (_v1 is { } v1 && (SHA1.HashData(info, hash) != v1.Span.Length || !hash[..SHA1.HashSizeInBytes].SequenceEqual(v1.Span)))
        {
            return false;
        }

        return _v2 is not { } v2 || (SHA256.HashData(info, hash) == v2.Span.Length && hash.SequenceEqual(v2.Span));
    }

    /// <summary>What a fetch delivered.</summary>
    /// <param name="Info">The info dictionary, checked against the info-hash.</param>
    /// <param name="PieceLayer">The v2 piece layer, checked against the pieces root; empty when not needed or not fetched.</param>
    /// <param name="Source">The peer that delivered it.</param>
    internal sealed record Result(byte[] Info, byte[] PieceLayer, IPEndPoint Source);

    /// <summary>
    /// BEP 9 from the asking side: advertised as ut_metadata like the swarm's <see cref="MetadataServer"/>, it hands
    /// each message to the session it arrived on, which holds that peer's fetch.
    /// </summary>
    private sealed class MetadataClient() : PeerExtension(ExtensionHandshake.UtMetadataName, advertised: true)
    {
        /// <inheritdoc/>
        public override string? OnMessage(IExtensionPeer peer, PeerMessage message) => ((Session)peer).OnMetadata(message.Payload);
    }

    /// <summary>
    /// One connection asking one peer for the metadata: the metadata mode of the protocol every session speaks, over
    /// the same <see cref="PeerConnection{TMessage}"/> and wire reader, its extended messages dispatched by the
    /// fetcher's <see cref="ExtensionRegistry"/> as a swarm's are by its own.
    /// </summary>
    private sealed class Session(MetadataFetcher fetcher, IPEndPoint peer) : IConnectionHandler<Outgoing>, IExtensionPeer
    {
        private readonly MessageReader _reader = new();
        private PeerConnection<Outgoing> _connection = null!;
        private string? _outcome;
        private bool _decided;
        private byte[]? _info;
        private bool[]? _received;
        private int _requested;
        private int _receivedCount;
        private bool _fast;
        private LayerFetch? _layers;

        /// <summary>Gets a value indicating whether the peer's failure is definitive (banned, over the limit, no metadata), so it is not asked again.</summary>
        public bool Final { get; private set; }

        /// <inheritdoc/>
        public IPEndPoint Remote => peer;

        /// <inheritdoc/>
        public bool IsOutgoing => true;

        /// <inheritdoc/>
        public IPEndPoint? ReachableAt => peer;

        /// <inheritdoc/>
        public bool IsSeed => false;

        /// <inheritdoc/>
        public ExtensionHandshake? RemoteExtensions { get; private set; }

        /// <summary>Runs the exchange on a dialled connection; returns why the peer failed, or null when it delivered.</summary>
        /// <param name="socket">The connection, owned by the caller.</param>
        /// <param name="stream">The stream over it, owned by the caller.</param>
        /// <param name="remote">The peer's handshake, or null when it sent none.</param>
        /// <param name="ct">The deadline.</param>
        /// <returns>The failure, or null.</returns>
        public async Task<string?> RunAsync(Socket socket, Stream stream, PeerHandshake? remote, CancellationToken ct)
        {
            if (remote is null || !(remote.InfoHash.SequenceEqual(fetcher._handshakeHash) || (fetcher._alternateHash is { } alt && remote.InfoHash.SequenceEqual(alt))))
            {
                return "the peer did not answer with this torrent's handshake";
            }

            if (remote.PeerId.SequenceEqual(fetcher._host.PeerId.Span))
            {
                Final = true;
                return "that is ourselves";
            }

            if ((remote.Features & HandshakeFeatures.ExtensionProtocol) == 0)
            {
                Final = true;
                return "the peer does not speak the extension protocol (BEP 10), so it cannot send metadata";
            }

            _fast = (remote.Features & HandshakeFeatures.Fast) != 0;
            _reader.FastExtension = _fast;
            _reader.ExtensionProtocol = true;
            _connection = new PeerConnection<Outgoing>(socket, stream, fetcher._host.Time, fetcher._host.Logger, ct);
            _connection.Send(new Outgoing(MessageId.Extended, Payload: fetcher._extensionHandshake, ExtensionId: 0));
            if (_fast)
            {
                _connection.Send(new Outgoing(MessageId.HaveNone));
            }

            await _connection.Start(this).ConfigureAwait(false);

            // A deadline or a stop ends the loops as "closed": the caller tells the two apart.
            ct.ThrowIfCancellationRequested();
            return _outcome;
        }

        /// <inheritdoc/>
        public void SendExtended(byte remoteId, byte[] payload) => _connection.Send(new Outgoing(MessageId.Extended, Payload: payload, ExtensionId: remoteId));

        /// <inheritdoc/>
        public bool TryQueueReply(PeerExtension owner, Outgoing reply, int limit)
        {
            _connection.Send(reply);
            return true;
        }

        /// <inheritdoc/>
        string? IConnectionHandler<Outgoing>.OnReceived(ref ReadOnlySequence<byte> buffer)
        {
            while (!_decided)
            {
                WireReadStatus status = _reader.TryRead(ref buffer);
                if (status == WireReadStatus.NeedMoreData)
                {
                    return null;
                }

                if (status == WireReadStatus.ProtocolError)
                {
                    return Decide($"protocol error: {_reader.Error}");
                }

                if (status == WireReadStatus.Message && Handle(_reader.Current) is { } failure)
                {
                    return Decide(failure);
                }
            }

            // Delivered: the connection closes with nothing to report.
            return "delivered";
        }

        /// <inheritdoc/>
        long IConnectionHandler<Outgoing>.MissingBytes => _reader.MissingBytes;

        /// <inheritdoc/>
        void IConnectionHandler<Outgoing>.OnReceiveBatchEnd()
        {
        }

        /// <inheritdoc/>
        bool IConnectionHandler<Outgoing>.IsBulk(in Outgoing message) => false;

        /// <inheritdoc/>
        ValueTask<int> IConnectionHandler<Outgoing>.WriteAsync(PipeWriter output, Outgoing message, CancellationToken cancellationToken) =>
            ValueTask.FromResult(message.WriteTo(output));

        /// <inheritdoc/>
        void IConnectionHandler<Outgoing>.OnClosed(string reason)
        {
            if (!_decided)
            {
                _outcome = reason == "the peer closed the connection"
                    ? RemoteExtensions is null ? "the peer hung up before its extended handshake" : "the peer hung up"
                    : reason;
            }
        }

        private string Decide(string? failure)
        {
            _decided = true;
            _outcome = failure;
            return failure ?? "delivered";
        }

        /// <summary>Handles one message; returns why the peer failed, or null (deciding the exchange once it delivered).</summary>
        private string? Handle(PeerMessage m)
        {
            switch (m.Id)
            {
                case MessageId.Extended when m.ExtensionId == 0:
                    return OnExtendedHandshake(m.Payload);
                case MessageId.Extended:
                    return fetcher._extensions.For(m)?.OnMessage(this, m);
                case MessageId.Request when _fast:
                    // We have nothing yet (we said so): refuse rather than leave the peer waiting.
                    _connection.Send(new Outgoing(MessageId.RejectRequest, m.Block));
                    return null;
                case MessageId.Hashes:
                    return _layers is null ? null : OnLayer(_layers.OnHashes(m.Hashes, m.Payload, out HashRequest next), next);
                case MessageId.HashReject:
                    return _layers is null ? null : "the peer refused our request for the piece layer";
                default:
                    return null;
            }
        }

        private string? OnExtendedHandshake(ReadOnlySequence<byte> payload)
        {
            if (!ExtensionHandshake.TryParse(payload.ToArray(), RemoteExtensions, out ExtensionHandshake handshake))
            {
                return "an invalid extended handshake";
            }

            RemoteExtensions = handshake;
            fetcher._extensions.OnHandshake(this, handshake);
            if (_info is not null)
            {
                // A later handshake may move ut_metadata to another id (our next requests use it) or disable it; the
                // size of a fetch under way does not change.
                return handshake.UtMetadata == 0 ? "the peer disabled ut_metadata" : null;
            }

            if (handshake.UtMetadata == 0 || handshake.MetadataSize <= 0)
            {
                Final = true;
                return "the peer does not offer the metadata (no ut_metadata or metadata_size)";
            }

            if (handshake.MetadataSize > fetcher._maxSize)
            {
                Final = true;
                return $"the peer offers metadata of {handshake.MetadataSize} bytes, more than the limit of {fetcher._maxSize} (DeployOptions.MaxMetadataSize)";
            }

            _info = new byte[handshake.MetadataSize];
            _received = new bool[(handshake.MetadataSize + MetadataMessage.PieceSize - 1) / MetadataMessage.PieceSize];
            RequestMore();
            return null;
        }

        private void RequestMore()
        {
            while (_requested < _received!.Length && _requested - _receivedCount < PipelinedRequests)
            {
                SendMetadata(MetadataMessageType.Request, _requested++);
            }
        }

        private void SendMetadata(MetadataMessageType type, int piece)
        {
            var payload = new ArrayBufferWriter<byte>(64);
            MetadataMessage.Write(payload, type, piece, 0, default);
            SendExtended(RemoteExtensions!.IdFor(ExtensionHandshake.UtMetadataName), payload.WrittenSpan.ToArray());
        }

        /// <summary>Takes a ut_metadata message (from <see cref="MetadataClient"/>); returns why the peer failed, or null.</summary>
        /// <param name="payload">The message's payload.</param>
        /// <returns>The failure, or null.</returns>
        public string? OnMetadata(ReadOnlySequence<byte> payload)
        {
            if (!MetadataMessage.TryParse(payload, out MetadataMessage message))
            {
                return "an invalid ut_metadata message";
            }

            switch (message.Type)
            {
                case MetadataMessageType.Request:
                    if (RemoteExtensions?.UtMetadata is > 0)
                    {
                        SendMetadata(MetadataMessageType.Reject, message.Piece);
                    }

                    return null;
                case MetadataMessageType.Reject:
                    return $"the peer refused metadata piece {message.Piece}";
            }

            if (_info is null || message.TotalSize != _info.Length || message.Piece >= _requested || _received![message.Piece])
            {
                return $"the peer sent metadata piece {message.Piece} of {message.TotalSize} bytes, which we did not ask for";
            }

            message.Data.CopyTo(_info.AsSpan(message.Piece * MetadataMessage.PieceSize));
            _received[message.Piece] = true;
            if (++_receivedCount < _received.Length)
            {
                RequestMore();
                return null;
            }

            if (!fetcher.Verify(_info))
            {
                fetcher.Ban(peer);
                return "banned: the metadata it sent does not hash to the info-hash";
            }

            Log.MetadataReceived(fetcher._host.Logger, fetcher.Name, peer);
            _layers = LayerFetch.For(_info, fetcher._v1 is null);
            if (_layers is null)
            {
                fetcher._result.TrySetResult(new Result(_info, [], peer));
                Decide(null);
                return null;
            }

            return OnLayer(_layers.Next(out HashRequest first), first);
        }

        private string? OnLayer(LayerFetch.Step step, HashRequest next)
        {
            switch (step)
            {
                case LayerFetch.Step.Invalid:
                    fetcher.Ban(peer);
                    return "banned: the piece layer hashes it sent do not lead to the pieces root";
                case LayerFetch.Step.Complete:
                    fetcher._result.TrySetResult(new Result(_info!, _layers!.Layer, peer));
                    Decide(null);
                    return null;
                default:
                    _connection.Send(new Outgoing(MessageId.HashRequest, Hash: next));
                    return null;
            }
        }
    }
}

using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Threading.Channels;
using BlockTorrent.Manifest;
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
/// <para>Peers come from <see cref="AddCandidates"/> (the magnet link, the caller, trackers, LSD) and from PEX.</para>
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
    private readonly HashSet<IPEndPoint> _banned = [];
    private readonly Queue<string> _failures = new();
    private readonly TaskCompletionSource<Result> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _extensionHandshake;

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
        _extensionHandshake = ExtensionHandshake.Encode(0, host.ListenPort, TorrentSwarm.RequestQueueLimit, pex: true);
        Name = (v1 ?? v2)!.Value.ToHex();
    }

    /// <summary>Gets the info-hash the fetch is for, in hex.</summary>
    public string Name { get; }

    /// <summary>Gets every peer heard of so far (to hand to the deployment that follows).</summary>
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

    /// <summary>Adds peers to ask.</summary>
    /// <param name="peers">Their addresses.</param>
    public void AddCandidates(IEnumerable<IPEndPoint> peers)
    {
        lock (_known)
        {
            foreach (IPEndPoint peer in peers)
            {
                if (peer.Port != 0 && _known.Count < MaxCandidates && _known.TryAdd(peer, 0))
                {
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

            using var socket = PeerSockets.Create(peer.AddressFamily, _host.Settings.TcpCongestionControl);
            using var deadline = new CancellationTokenSource(PeerTimeout, _host.Time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
            await socket.ConnectAsync(peer, timeout.Token).ConfigureAwait(false);
            var session = new Session(this, socket, peer);
            failure = await session.RunAsync(timeout.Token).ConfigureAwait(false);
            retry = !session.Final;
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

    /// <summary>One connection asking one peer for the metadata.</summary>
    private sealed class Session(MetadataFetcher fetcher, Socket socket, IPEndPoint peer)
    {
        private readonly MessageReader _reader = new();
        private readonly ArrayBufferWriter<byte> _output = new(1024);
        private ExtensionHandshake? _remote;
        private byte[]? _info;
        private bool[]? _received;
        private int _requested;
        private int _receivedCount;
        private bool _fast;
        private LayerFetch? _layers;

        /// <summary>Gets a value indicating whether the peer's failure is definitive (banned, over the limit, no metadata), so it is not asked again.</summary>
        public bool Final { get; private set; }

        /// <summary>Runs the exchange; returns why the peer failed, or null when it delivered.</summary>
        public async Task<string?> RunAsync(CancellationToken ct)
        {
            var ours = new PeerHandshake(fetcher._features, fetcher._handshakeHash, fetcher._host.PeerId.Span);
            byte[] bytes = new byte[PeerHandshake.Size];
            ours.WriteTo(bytes);
            await socket.SendAsync(bytes, SocketFlags.None, ct).ConfigureAwait(false);
            PeerHandshake? remote = await ConnectionListener.ReceiveHandshakeAsync(socket, ct).ConfigureAwait(false);
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
            MessageWriter.WriteExtended(_output, 0, fetcher._extensionHandshake);
            if (_fast)
            {
                MessageWriter.WriteSimple(_output, MessageId.HaveNone);
            }

            var stream = new NetworkStream(socket, ownsSocket: false);
            await using var streamScope = stream.ConfigureAwait(false);
            PipeReader input = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));
            try
            {
                while (true)
                {
                    if (_output.WrittenCount > 0)
                    {
                        await stream.WriteAsync(_output.WrittenMemory, ct).ConfigureAwait(false);
                        _output.ResetWrittenCount();
                    }

                    ReadResult result = await input.ReadAsync(ct).ConfigureAwait(false);
                    ReadOnlySequence<byte> buffer = result.Buffer;
                    string? outcome = null;
                    bool done = false;
                    while (outcome is null && !done)
                    {
                        WireReadStatus status = _reader.TryRead(ref buffer);
                        if (status == WireReadStatus.NeedMoreData)
                        {
                            break;
                        }

                        if (status == WireReadStatus.ProtocolError)
                        {
                            outcome = $"protocol error: {_reader.Error}";
                        }
                        else if (status == WireReadStatus.Message)
                        {
                            outcome = Handle(_reader.Current, out done);
                        }
                    }

                    input.AdvanceTo(buffer.Start, buffer.End);
                    if (outcome is not null || done)
                    {
                        return outcome;
                    }

                    if (result.IsCompleted)
                    {
                        return _remote is null ? "the peer hung up before its extended handshake" : "the peer hung up";
                    }
                }
            }
            finally
            {
                await input.CompleteAsync().ConfigureAwait(false);
            }
        }

        /// <summary>Handles one message; returns why the peer failed, or null (and <paramref name="done"/> once it delivered).</summary>
        private string? Handle(PeerMessage m, out bool done)
        {
            done = false;
            switch (m.Id)
            {
                case MessageId.Extended when m.ExtensionId == 0:
                    return OnExtendedHandshake(m.Payload);
                case MessageId.Extended when m.ExtensionId == ExtensionHandshake.UtMetadataId:
                    return OnMetadata(m.Payload, out done);
                case MessageId.Extended when m.ExtensionId == ExtensionHandshake.UtPexId:
                    if (PexMessage.TryParse(m.Payload.ToArray()) is not { } pex)
                    {
                        return "an invalid ut_pex message";
                    }

                    fetcher.AddCandidates(pex.Added.Take(PexMessage.MaxPeersPerList).Select(p => p.EndPoint));
                    return null;
                case MessageId.Request when _fast:
                    // We have nothing yet (we said so): refuse rather than leave the peer waiting.
                    MessageWriter.WriteBlock(_output, MessageId.RejectRequest, m.Block);
                    return null;
                case MessageId.Hashes:
                    return _layers is null ? null : OnLayer(_layers.OnHashes(m.Hashes, m.Payload, _output), out done);
                case MessageId.HashReject:
                    return _layers is null ? null : "the peer refused our request for the piece layer";
                default:
                    return null;
            }
        }

        private string? OnExtendedHandshake(ReadOnlySequence<byte> payload)
        {
            if (!ExtensionHandshake.TryParse(payload.ToArray(), _remote, out ExtensionHandshake handshake))
            {
                return "an invalid extended handshake";
            }

            _remote = handshake;
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
                WriteExtended(MetadataMessageType.Request, _requested++);
            }
        }

        private void WriteExtended(MetadataMessageType type, int piece)
        {
            var payload = new ArrayBufferWriter<byte>(64);
            MetadataMessage.Write(payload, type, piece, 0, default);
            MessageWriter.WriteExtended(_output, _remote!.UtMetadata, payload.WrittenSpan);
        }

        private string? OnMetadata(ReadOnlySequence<byte> payload, out bool done)
        {
            done = false;
            if (!MetadataMessage.TryParse(payload, out MetadataMessage message))
            {
                return "an invalid ut_metadata message";
            }

            switch (message.Type)
            {
                case MetadataMessageType.Request:
                    if (_remote?.UtMetadata is > 0)
                    {
                        WriteExtended(MetadataMessageType.Reject, message.Piece);
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
                done = fetcher._result.TrySetResult(new Result(_info, [], peer)) || true;
                return null;
            }

            return OnLayer(_layers.Next(_output), out done);
        }

        private string? OnLayer(LayerFetch.Step step, out bool done)
        {
            done = false;
            switch (step)
            {
                case LayerFetch.Step.Invalid:
                    fetcher.Ban(peer);
                    return "banned: the piece layer hashes it sent do not lead to the pieces root";
                case LayerFetch.Step.Complete:
                    done = fetcher._result.TrySetResult(new Result(_info!, _layers!.Layer, peer)) || true;
                    return null;
                default:
                    return null;
            }
        }
    }
}

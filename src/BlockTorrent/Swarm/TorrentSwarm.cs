using System.Net;
using System.Net.Sockets;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Swarm.Extensions;
using BlockTorrent.Wire;
using BlockTorrent.Writing;
using Microsoft.Extensions.Logging;

namespace BlockTorrent.Swarm;

/// <summary>
/// One torrent's swarm: its peer sessions, the picker, the piece buffers in flight, uploads from the device, and the
/// periodic work (rates, choking, stall detection, keep-alives, connecting to known peers).
/// </summary>
/// <remarks>
/// A deploying swarm has a <see cref="Writer"/>: blocks land in pieces rented from it, and completed pieces are
/// committed to it; once verified and written (with their duplicates) they are announced to every peer. A seeding
/// swarm has no writer and wants nothing. Both serve every piece they have from the device.
/// </remarks>
internal sealed partial class TorrentSwarm : ISessionHost, IAsyncDisposable
{
    /// <summary>How many requests we queue from one peer; advertised as <c>reqq</c>.</summary>
    public const int RequestQueueLimit = 2048;

    /// <summary>How long we may send a peer nothing before we send a keep-alive.</summary>
    public static readonly TimeSpan KeepAliveInterval = TimeSpan.FromMinutes(1);

    /// <summary>How long a peer may send us nothing (not even a keep-alive) before we drop it.</summary>
    public static readonly TimeSpan SilenceTimeout = TimeSpan.FromMinutes(3);

    private readonly ISwarmHost _host;
    private readonly List<PeerSession> _sessions = [];
    private readonly BanList _banned = new();
    private readonly DuplicateCopies _copies;
    private readonly Choker _choker;
    private readonly SuperSeedOffers? _offers;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[] _handshakeHash;
    private readonly byte[]? _alternateHash;
    private readonly byte[] _extensionHandshake;
    private readonly HandshakeFeatures _features;
    private CancellationTokenSource _rentInterrupt = new();
    private Task _tick = Task.CompletedTask;
    private Task _shares = Task.CompletedTask;
    private long _bytesDownloaded;
    private long _bytesUploaded;
    private long _bytesWasted;
    private int _peersSeen;
    private long _lastChoke;
    private bool _stopping;

    public TorrentSwarm(ISwarmHost host, TorrentManifest manifest, IBlockDevice device, PieceWriter? writer, Bitfield have, bool verifyOnFirstRead, bool superSeed)
    {
        _host = host;
        Manifest = manifest;
        Device = device;
        Writer = writer;
        PieceCount = manifest.PieceCount;
        Picker = PiecePicker.ForManifest(manifest, have, host.Settings.ExtentSize);
        ReadCache = new PieceReadCache(manifest, device, host.Settings.ReadCacheSize, verifyOnFirstRead);
        ReadCache.PieceInvalid += OnSourcePieceInvalid;
        _choker = new Choker(host.Settings.ChokingPolicy, host.Settings.MaxUploads, host.Time.TimestampFrequency * 30);
        _offers = superSeed ? new SuperSeedOffers(manifest, host.Time) : null;
        _handshakeHash = (manifest.InfoHashV1 ?? manifest.InfoHashV2)!.Value.Truncated20.ToArray();
        _alternateHash = manifest.InfoHashV1 is not null && manifest.InfoHashV2 is { } v2 ? v2.Truncated20.ToArray() : null;
        Extensions = new ExtensionRegistry();
        Extensions.Add(new MetadataServer(manifest.InfoDictionary));
        if (PexEnabled)
        {
            Extensions.Add(new PeerExchange(AddCandidates, (long)(host.Settings.PeerExchangeInterval.TotalSeconds * host.Time.TimestampFrequency)));
        }

        Extensions.Add(new HashServer(manifest));
        _extensionHandshake = Extensions.EncodeHandshake(manifest.InfoDictionary.Length, host.ListenPort, RequestQueueLimit);
        Name = manifest.Name;

        // The v2 upgrade bit only for torrents with v2 metadata: libtorrent drops a v1-only connection that sets it.
        _features = manifest.InfoHashV2 is null ? PeerHandshake.DefaultFeatures & ~HandshakeFeatures.V2 : PeerHandshake.DefaultFeatures;
        InfoHashText = (manifest.InfoHashV1 ?? manifest.InfoHashV2)!.Value.ToHex();
        _copies = new DuplicateCopies(manifest);
    }

    // Guards the swarm's state and every session's per-peer state (Pick, progress, request queue); taken only by the
    // swarm's own members, those of ISessionHost included.
    private object Sync { get; } = new();

    /// <summary>Gets the TLS every connection of this swarm runs over, or null for plain connections (<see cref="SwarmTls.For"/>).</summary>
    public SwarmTls? Tls { get; init; }

    public TorrentManifest Manifest { get; }

    public IBlockDevice Device { get; }

    public PieceWriter? Writer { get; }

    public PiecePicker? Picker { get; }

    public PieceReadCache? ReadCache { get; }

    public int PieceCount { get; }

    public string Name { get; }

    public string InfoHashText { get; }

    // The pieces in flight whose memory is rented, by index.
    private Dictionary<int, PieceBuffer> Buffers { get; } = [];

    /// <summary>Gets the swarm's protocol extensions (ut_metadata, ut_pex, BEP 52 hashes), by name.</summary>
    public ExtensionRegistry Extensions { get; }

    public SwarmSettings Settings => _host.Settings;

    public TimeProvider Time => _host.Time;

    public ILogger Logger => _host.Logger;

    public int AdvertisedRequestQueue => RequestQueueLimit;

    public bool IsStopping => Volatile.Read(ref _stopping);


    /// <summary>Gets a task that completes when every wanted piece is on the device (or faults when the device fails).</summary>
    public Task Completed => _completed.Task;

    public long BytesDownloaded => Interlocked.Read(ref _bytesDownloaded);

    public long BytesUploaded => Interlocked.Read(ref _bytesUploaded);

    public int HashFailures => Volatile.Read(ref _hashFailures);

    public int PiecesDownloaded => Volatile.Read(ref _piecesDownloaded);

    public int PeersSeen => Volatile.Read(ref _peersSeen);

    public int ConnectedPeers
    {
        get
        {
            lock (Sync)
            {
                return _sessions.Count;
            }
        }
    }

    public int PiecesHave
    {
        get
        {
            lock (Sync)
            {
                return Picker!.Have.Count;
            }
        }
    }

    private bool PexEnabled => Settings.EnablePeerExchange && !Manifest.IsPrivate;

    /// <summary>Gets a value indicating whether a handshake's info-hash names this torrent.</summary>
    public bool Matches(ReadOnlySpan<byte> hash20) =>
        hash20.SequenceEqual(_handshakeHash) || (_alternateHash is not null && hash20.SequenceEqual(_alternateHash));

    /// <summary>Starts the periodic work and completes at once if nothing is wanted.</summary>
    public void Start()
    {
        lock (Sync)
        {
            CheckCompleteLocked();
        }

        _tick = Task.Run(TickLoopAsync);
        if (_offers is not null && OperatingSystem.IsLinux())
        {
            _shares = Task.Run(ShareLoopAsync);
        }
    }

    /// <summary>Takes over an incoming connection whose handshake named this torrent; replies with our handshake.</summary>
    public async Task AcceptAsync(Socket socket, Stream stream, PeerHandshake remote)
    {
        var reply = new PeerHandshake(_features, remote.InfoHash, _host.PeerId.Span);
        byte[] bytes = new byte[PeerHandshake.Size];
        reply.WriteTo(bytes);
        await stream.WriteAsync(bytes, _stop.Token).ConfigureAwait(false);
        if (!Register(socket, stream, remote, outgoing: false))
        {
            await stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <inheritdoc/>
    public void OnClosed(PeerSession session, string reason)
    {
        lock (Sync)
        {
            if (!_sessions.Remove(session))
            {
                return;
            }

            Extensions.OnPeerClosed(session);

            Picker?.RemovePeer(session.Pick);
            _offers?.OnPeerClosed(session);

            InterruptRentsLocked();
            foreach (PeerSession other in _sessions)
            {
                other.Signal();
            }
        }

        SwarmMetrics.PeersConnected.Add(-1);
        _host.Publish(new SwarmEvent(SwarmEventKind.PeerDisconnected, InfoHashText) { Peer = session.Remote, Detail = reason });
        RunChoker();
    }

    /// <summary>Cancels every wait for piece memory, so the waiting pumps pick released blocks first.</summary>
    private void InterruptRentsLocked()
    {
        CancellationTokenSource old = _rentInterrupt;
        _rentInterrupt = new CancellationTokenSource();
        old.Cancel();
        old.Dispose();
    }


    /// <summary>
    /// Gets how far into a piece requests may reach: its size, except that libtorrent asks for the last piece of a
    /// v2-only torrent in whole 16 KiB leaves, so there the size is rounded up to a leaf (the excess reads as zeros).
    /// </summary>
    private int ServableSize(int piece)
    {
        int size = Manifest.GetPieceSize(piece);
        return Manifest.Versions == TorrentVersions.V2 && piece == PieceCount - 1
            ? (size + PiecePicker.BlockSize - 1) / PiecePicker.BlockSize * PiecePicker.BlockSize
            : size;
    }

    public void CountUpload(int bytes)
    {
        Interlocked.Add(ref _bytesUploaded, bytes);
        SwarmMetrics.BytesUploaded.Add(bytes);
    }

    public void CountDownload(int bytes)
    {
        Interlocked.Add(ref _bytesDownloaded, bytes);
        SwarmMetrics.BytesDownloaded.Add(bytes);
    }

    public void CountWasted(int bytes) => Interlocked.Add(ref _bytesWasted, bytes);

    private void SendCancelLocked(PieceCancel cancel)
    {
        foreach (PeerSession s in _sessions)
        {
            if (ReferenceEquals(s.Pick, cancel.Peer))
            {
                s.Send(new Outgoing(MessageId.Cancel, cancel.Block));
                return;
            }
        }
    }

    /// <inheritdoc/>
    public void OnExtendedHandshake(PeerSession session, ExtensionHandshake handshake)
    {
        lock (Sync)
        {
            if (handshake.RequestQueue > 0)
            {
                session.Queue.PeerLimit = handshake.RequestQueue;
            }

            if (handshake.ListenPort > 0 && !session.IsOutgoing)
            {
                // Not dialled while this session lasts (IsBannedOrConnectedLocked knows its listen port); dialled back if it drops.
                var listen = new IPEndPoint(session.Remote.Address, handshake.ListenPort);
                session.ListenEndPoint = listen;
                _candidates.AddListenPort(listen);
            }
        }
    }

    public void RunChoker()
    {
        lock (Sync)
        {
            _choker.Decide(_sessions, seeding: Picker!.IsComplete, Time.GetTimestamp());
            foreach (PeerSession s in _sessions)
            {
                s.ApplyChokeDecision();
            }
        }
    }

    /// <summary>Stops the swarm: no new pieces are started, connections close.</summary>
    public async ValueTask DisposeAsync()
    {
        Volatile.Write(ref _stopping, true);
        await _stop.CancelAsync().ConfigureAwait(false);
        PeerSession[] sessions;
        lock (Sync)
        {
            sessions = [.. _sessions];
            InterruptRentsLocked();
        }

        foreach (PeerSession s in sessions)
        {
            s.Close("the swarm stopped");
        }

        await Task.WhenAll(sessions.Select(s => s.Completion)).ConfigureAwait(false);
        await _tick.ConfigureAwait(false);
        await _shares.ConfigureAwait(false);
        lock (Sync)
        {
            foreach (PieceBuffer buffer in Buffers.Values)
            {
                buffer.Dispose();
            }

            Buffers.Clear();
        }

        ReadCache?.Dispose();
        _completed.TrySetCanceled();
        _stop.Dispose();
    }

    private bool Register(Socket socket, Stream stream, PeerHandshake remote, bool outgoing)
    {
        var remoteEndPoint = (IPEndPoint)socket.RemoteEndPoint!;
        PeerSession? replaced = null;
        lock (Sync)
        {
            if (IsStopping || _banned.IsBanned(remoteEndPoint, remote.PeerId))
            {
                return false;
            }

            if (remote.PeerId.SequenceEqual(_host.PeerId.Span))
            {
                if (outgoing)
                {
                    _candidates.MarkSelf(remoteEndPoint);
                }

                return false;
            }

            PeerSession? existing = _sessions.Find(s => s.PeerId.AsSpan().SequenceEqual(remote.PeerId));
            if (existing is not null)
            {
                if (!ReplacesDuplicate(_host.PeerId.Span, remote.PeerId, existing.IsOutgoing, outgoing))
                {
                    return false;
                }

                replaced = existing;
            }
            else if (_sessions.Count >= Settings.MaxConnectionsPerTorrent)
            {
                return false;
            }

            var session = new PeerSession(this, socket, stream, remote, outgoing, _stop.Token);
            _sessions.Add(session);
            _peersSeen++;
            if (session.Extensions)
            {
                session.Send(new Outgoing(MessageId.Extended, Payload: _extensionHandshake, ExtensionId: 0));
            }

            SendPiecesLocked(session);
            session.Start();
            SwarmMetrics.PeersConnected.Add(1);
            Log.PeerConnected(Logger, session.Remote, outgoing ? "outgoing" : "incoming", Name);
            _host.Publish(new SwarmEvent(SwarmEventKind.PeerConnected, InfoHashText) { Peer = session.Remote });
        }

        replaced?.Close("replaced by the connection both ends keep");
        RunChoker();
        return true;
    }

    /// <summary>
    /// Decides between two connections to the same peer, which happen when both ends dial each other at once: each
    /// end must keep the same one, or each closes the one the other kept and neither survives until a redial seconds
    /// later. Both ends keep the connection dialled by the peer with the lower peer id; a second connection in the
    /// same direction as the first never replaces it.
    /// </summary>
    /// <param name="ourId">Our peer id.</param>
    /// <param name="theirId">The peer's id.</param>
    /// <param name="existingOutgoing">Whether the connection we have was dialled by us.</param>
    /// <param name="newOutgoing">Whether the new connection was dialled by us.</param>
    /// <returns><see langword="true"/> to keep the new connection and close the existing one.</returns>
    internal static bool ReplacesDuplicate(ReadOnlySpan<byte> ourId, ReadOnlySpan<byte> theirId, bool existingOutgoing, bool newOutgoing) =>
        existingOutgoing != newOutgoing && newOutgoing == ourId.SequenceCompareTo(theirId) < 0;

    private void SendPiecesLocked(PeerSession session)
    {
        Bitfield have = Picker!.Have;
        if (_offers is not null || have.IsEmpty)
        {
            if (session.Fast)
            {
                session.Send(new Outgoing(MessageId.HaveNone));
            }
        }
        else if (have.IsFull && session.Fast)
        {
            session.Send(new Outgoing(MessageId.HaveAll));
        }
        else
        {
            session.Send(new Outgoing(MessageId.Bitfield, Payload: have.ToWire()));
        }
    }

    private async Task TickLoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), Time);
        long last = Time.GetTimestamp();
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                long now = Time.GetTimestamp();
                double seconds = Math.Max(0.001, (now - last) / (double)Time.TimestampFrequency);
                last = now;
                Tick(now, seconds);
                CheckSources(now);
                ConnectToCandidates();
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private void Tick(long now, double seconds)
    {
        long frequency = Time.TimestampFrequency;
        long timeout = (long)(Settings.RequestTimeout.TotalSeconds * frequency);
        long keepAlive = (long)(KeepAliveInterval.TotalSeconds * frequency);
        long silence = (long)(SilenceTimeout.TotalSeconds * frequency);
        var close = new List<(PeerSession, string)>();
        bool choke;
        lock (Sync)
        {
            foreach (PeerSession s in _sessions)
            {
                s.UpdateRates(seconds);
                if (s.Pick.Outstanding > 0 && now - s.LastProgress > timeout)
                {
                    Log.PeerStalled(Logger, s.Remote, s.Pick.Outstanding);
                    Picker?.ReleaseRequests(s.Pick);
                    s.Queue.Reset();
                    s.LastProgress = now;
                    InterruptRentsLocked();
                    if (++s.Stalls >= 2)
                    {
                        close.Add((s, "stalled"));
                    }
                }

                if (now - s.LastSent > keepAlive)
                {
                    s.Send(new Outgoing(MessageId.Choke, KeepAlive: true));
                }

                if (now - s.LastReceived > silence)
                {
                    close.Add((s, "silent for three minutes"));
                }

                _offers?.OnTick(s);

                s.Signal();
            }

            Extensions.Tick(now, _sessions);

            choke = now - _lastChoke > 10 * frequency;
            if (choke)
            {
                _lastChoke = now;
            }
        }

        foreach ((PeerSession s, string reason) in close)
        {
            s.Close(reason);
        }

        if (choke)
        {
            RunChoker();
        }
    }
}

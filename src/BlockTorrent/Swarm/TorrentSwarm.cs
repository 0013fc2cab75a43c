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
/// <para>
/// A deploying swarm has a <see cref="Writer"/>: blocks land in pieces rented from it, and completed pieces are
/// committed to it; once verified and written (with their duplicates) they are announced to every peer. A seeding
/// swarm has no writer and wants nothing. Both serve every piece they have from the device.
/// </para>
/// <para>
/// The swarm owns the policy and the lock; each concern is a file: this one the state and its life, <c>.Registry</c>
/// which connections become sessions, <c>.Sessions</c> what a session's messages change (<see cref="ISessionHost"/>),
/// <c>.Commits</c> piece commits and bans, <c>.Tick</c> the periodic work, <c>.Dialing</c> the dials
/// (<see cref="PeerCandidates"/>), <c>.SuperSeed</c> the upload shares (<see cref="SuperSeedOffers"/> the offers),
/// <c>.Sources</c> pieces left without a source, <c>.Check</c> a re-image's check running beside the swarm,
/// <c>.Bandwidth</c> the rate limits, <c>.Peers</c> the progress snapshot, <c>.Streaming</c> a stream target's window.
/// </para>
/// </remarks>
internal sealed partial class TorrentSwarm : ISessionHost, IAsyncDisposable
{
    /// <summary>How many requests we queue from one peer; advertised as <c>reqq</c>.</summary>
    public const int RequestQueueLimit = 2048;

    private readonly ISwarmHost _host;
    private readonly List<PeerSession> _sessions = [];
    private readonly BanList _banned = new();
    private readonly EvictedAddresses _evictedAddresses;
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
    private long _firstByteAt;
    private long _firstPieceAt;
    private long _bytesUploaded;
    private long _bytesWasted;
    private int _peersSeen;
    private bool _stopping;

    public TorrentSwarm(ISwarmHost host, TorrentManifest manifest, IBlockDevice device, PieceWriter? writer, Bitfield have, bool verifyOnFirstRead, SuperSeedMode superSeed)
    {
        _host = host;
        _candidates = new PeerCandidates(host.ListenPort);
        _evictedAddresses = new EvictedAddresses(host.Time.TimestampFrequency);
        Manifest = manifest;
        Device = device;
        Writer = writer;
        PieceCount = manifest.PieceCount;
        Picker = PiecePicker.ForManifest(manifest, have, host.Settings.ExtentSize);
        Picker.Blocks = manifest.Blocks;
        ReadCache = new PieceReadCache(manifest, device, host.Settings.ReadCacheSize, verifyOnFirstRead);
        ReadCache.PieceInvalid += OnSourcePieceInvalid;
        _choker = new Choker(host.Settings.ChokingPolicy, host.Settings.MaxUploads, host.Time.TimestampFrequency * 30);
        _offers = superSeed != SuperSeedMode.Never ? new SuperSeedOffers(manifest, host.Time, Picker.Have, host.Logger, adaptive: superSeed == SuperSeedMode.Adaptive) : null;
        _handshakeHash = (manifest.InfoHashV1 ?? manifest.InfoHashV2)!.Value.Truncated20.ToArray();
        _alternateHash = manifest.InfoHashV1 is not null && manifest.InfoHashV2 is { } v2 ? v2.Truncated20.ToArray() : null;
        Extensions = new ExtensionRegistry();
        Extensions.Add(new MetadataServer(manifest.InfoDictionary));
        if (PexEnabled)
        {
            Extensions.Add(new PeerExchange(AddExchangedCandidates, (long)(host.Settings.PeerExchangeInterval.TotalSeconds * host.Time.TimestampFrequency), host.Time));
        }

        Extensions.Add(new HashServer(manifest, LeavesOfAsync));
        _windows = new StreamWindowExchange(OnPeerWindow);
        Extensions.Add(_windows, StreamWindowExchange.WantedId);
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

    /// <summary>Gets the swarm's protocol extensions (ut_metadata, ut_pex, BEP 52 hashes, bt_stream_window), by name.</summary>
    public ExtensionRegistry Extensions { get; }

    public SwarmSettings Settings => _host.Settings;

    public TimeProvider Time => _host.Time;

    public ILogger Logger => _host.Logger;

    public int AdvertisedRequestQueue => RequestQueueLimit;

    public bool IsStopping => Volatile.Read(ref _stopping);


    /// <summary>Gets a task that completes when every wanted piece is on the device (or faults when the device fails).</summary>
    public Task Completed => _completed.Task;

    public long BytesDownloaded => Interlocked.Read(ref _bytesDownloaded);

    /// <summary>Gets the <see cref="TimeProvider"/> timestamp of the first piece payload received from a peer or web seed, or 0 before it.</summary>
    public long FirstByteTimestamp => Interlocked.Read(ref _firstByteAt);

    /// <summary>Gets the timestamp of the first piece fetched from the swarm and verified (then written), or 0 before it.</summary>
    public long FirstPieceTimestamp => Interlocked.Read(ref _firstPieceAt);

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
        StartWebSeeds();
        if (_offers is not null && OperatingSystem.IsLinux())
        {
            _shares = Task.Run(ShareLoopAsync);
        }
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
        if (Interlocked.Add(ref _bytesDownloaded, bytes) == bytes)
        {
            Interlocked.CompareExchange(ref _firstByteAt, Time.GetTimestamp(), 0);
        }

        SwarmMetrics.BytesDownloaded.Add(bytes);
    }

    public void CountWasted(int bytes) => Interlocked.Add(ref _bytesWasted, bytes);

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
        await _webSeedLoops.ConfigureAwait(false);
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
}

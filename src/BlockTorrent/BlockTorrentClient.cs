using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using BlockTorrent.Compression;
using BlockTorrent.Devices;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;
using BlockTorrent.Scratch;
using BlockTorrent.Swarm;
using BlockTorrent.Swarm.Bandwidth;
using BlockTorrent.Writing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Log = BlockTorrent.Swarm.Log;

namespace BlockTorrent;

/// <summary>
/// A BitTorrent client that deploys raw disk images onto block devices and seeds them from block devices. One
/// client listens on one port and runs any number of deployments and seeds at once.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="DeployAsync(TorrentManifest, IBlockDevice, DeployOptions?, IProgress{DeploymentProgress}?, CancellationToken)"/>
/// fetches every piece the target lacks from peers, verifies it and writes it straight to its offset; all-zero
/// pieces and duplicate pieces never travel. While it runs, the target seeds what it already has to other peers.
/// <see cref="SeedAsync"/> serves an image from a device until cancelled.
/// </para>
/// <para>The listen socket is bound by the constructor, so <see cref="LocalEndPoint"/> is known at once.</para>
/// </remarks>
public sealed class BlockTorrentClient : IAsyncDisposable
{
    /// <summary>
    /// The name of the library's one <see cref="System.Diagnostics.Metrics.Meter"/>, whose instruments
    /// (<c>blocktorrent.bytes.downloaded</c>, <c>blocktorrent.bytes.uploaded</c>, <c>blocktorrent.pieces.verified</c>, ...)
    /// every client reports to: pass it to OpenTelemetry's <c>AddMeter</c> or a <c>MeterListener</c>.
    /// </summary>
    public const string MeterName = Diagnostics.BlockTorrentMetrics.MeterName;

    private readonly Host _host;
    private readonly ConnectionListener _listener;
    private readonly Dictionary<string, TorrentSwarm> _swarms = new(StringComparer.Ordinal);
    private readonly List<Channel<SwarmEvent>> _watchers = [];
    private readonly Lock _localDiscoveryLock = new();
    private LocalPeerDiscovery? _localDiscovery;
    private int _disposed;

    /// <summary>Initializes a new instance and starts listening for peers.</summary>
    /// <param name="options">The settings; <see langword="null"/> for the defaults.</param>
    /// <param name="loggerFactory">Where to log; <see langword="null"/> for nowhere.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="System.Net.Sockets.SocketException">The listen endpoint cannot be bound.</exception>
    public BlockTorrentClient(BlockTorrentClientOptions? options = null, ILoggerFactory? loggerFactory = null)
        : this(options, loggerFactory, TimeProvider.System)
    {
    }

    /// <summary>Initializes a new instance on a given clock: tests move a fake one to reach keep-alives and timeouts.</summary>
    internal BlockTorrentClient(BlockTorrentClientOptions? options, ILoggerFactory? loggerFactory, TimeProvider time)
    {
        options ??= new BlockTorrentClientOptions();
        options.Validate();
        ILogger logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("BlockTorrent.Swarm");
        _host = new Host(this, options, logger, CreatePeerId(options.PeerIdPrefix), time);
        _listener = new ConnectionListener(options.ListenEndPoint, Route, logger, time, options.TcpCongestionControl);
        _host.ListenPort = _listener.LocalEndPoint.Port;
        if (options.EnableLocalPeerDiscovery)
        {
            try
            {
                EnsureLocalDiscovery();
            }
            catch
            {
                _listener.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }
        }
    }

    /// <summary>Gets the address and port the client accepts peer connections on.</summary>
    public IPEndPoint LocalEndPoint => _listener.LocalEndPoint;

    /// <summary>Gets the settings the client runs with.</summary>
    public BlockTorrentClientOptions Options => _host.Options;

    /// <summary>Gets the client's 20-byte peer id.</summary>
    public ReadOnlyMemory<byte> PeerId => _host.PeerId;

    /// <summary>
    /// Writes an image onto a device: pieces already on it (resume file, existing data) are kept, all-zero pieces and
    /// duplicates are satisfied locally, and the rest is fetched from peers, verified and written at its offset.
    /// </summary>
    /// <param name="manifest">The image's manifest.</param>
    /// <param name="target">The device to write; at least as long as the image.</param>
    /// <param name="options">Peers, trackers, resume file and more; <see langword="null"/> for the defaults.</param>
    /// <param name="progress">Receives progress about four times a second; may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops the deployment (the resume file, if any, is still written).</param>
    /// <returns>What the deployment did.</returns>
    /// <exception cref="ArgumentException">The device is read-only or too short, or the options are invalid.</exception>
    /// <exception cref="InvalidOperationException">
    /// The client is already deploying or seeding this torrent, or it is a TLS torrent and
    /// <see cref="BlockTorrentClientOptions.PeerCertificate"/> is missing or not admitted by its authority.
    /// </exception>
    /// <exception cref="IOException">The device failed.</exception>
    /// <exception cref="PiecesUnavailableException">No usable peer had the pieces still missing for <see cref="DeployOptions.StallTimeout"/>.</exception>
    /// <exception cref="ManifestTrustException">
    /// The manifest is not signed by a key of <see cref="DeployOptions.Trust"/>, or its info-hash is not
    /// <see cref="DeployOptions.ExpectedInfoHash"/>; nothing was read from or written to the device.
    /// </exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The overloads differ in the type of a required parameter, so no call is ambiguous.")]
    public async Task<DeploymentResult> DeployAsync(TorrentManifest manifest, IBlockDevice target, DeployOptions? options = null, IProgress<DeploymentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(target);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        options ??= new DeployOptions();
        options.Validate();

        // The manifest is the root of every piece check: it is accepted or refused before the device is touched.
        CheckManifest(manifest, options);
        SwarmTls? tls = SwarmTls.For(manifest, _host.Options.PeerCertificate);

        // A compressed image's pieces are verified as the torrent's, then decoded onto the raw target (CompressedImageDevice).
        CompressedImage? compressed = CompressedImage.FromManifest(manifest);
        CompressedImageDevice? decoding = compressed is null ? null : new CompressedImageDevice(compressed, target);
        await using ConfiguredAsyncDisposable decodingScope = ((IAsyncDisposable?)decoding ?? Stream.Null).ConfigureAwait(false);

        // A compressed stream's pieces wait in bounded scratch for a decoder that writes the raw image in order (StreamImageDevice).
        StreamImage? stream = compressed is null ? StreamImage.FromManifest(manifest) : null;
        IScratchStore? scratch = stream is null ? null : CreateScratch(options, manifest.PieceLength);
        await using ConfiguredAsyncDisposable scratchScope = ((IAsyncDisposable?)scratch ?? Stream.Null).ConfigureAwait(false);
        StreamImageDevice? streaming = stream is null ? null : new StreamImageDevice(manifest, stream, target, scratch!);
        await using ConfiguredAsyncDisposable streamingScope = ((IAsyncDisposable?)streaming ?? Stream.Null).ConfigureAwait(false);
        IBlockDevice device = (IBlockDevice?)decoding ?? (IBlockDevice?)streaming ?? target;
        LocalPeerDiscovery? localDiscovery = LocalDiscoveryFor(options.UseLocalPeerDiscovery, manifest.IsPrivate);
        long started = _host.Time.GetTimestamp();
        var writerOptions = new PieceWriterOptions
        {
            MaxInFlightBytes = Math.Max(_host.Options.DownloadMemory, manifest.PieceLength),
            // A stream's decoded pieces leave scratch: the raw SHA-256 at the end reads the device instead.
            VerifyAfterWrite = options.VerifyAfterWrite && streaming is null,
            VerifyAllHashes = options.VerifyAllHashes,
            DeviceIsZeroed = options.DeviceIsZeroed,
        };
        var writer = new PieceWriter(manifest, device, writerOptions, _host.Logger);
        await using var writerScope = writer.ConfigureAwait(false);

        // A re-image checks the target while the swarm runs. A compressed image's target is checked first: its zero
        // frames are zeroed up front, which must not happen to regions not yet read.
        bool checkBeside = options.CheckExistingData && decoding is null && streaming is null;

        // A stream decodes only from its start, so nothing on the target counts: every piece travels once.
        TargetCheck present = streaming is null
            ? await PrepareTargetAsync(manifest, device, writer, options, checkBeside, cancellationToken).ConfigureAwait(false)
            : await PrepareStreamAsync(writer, cancellationToken).ConfigureAwait(false);
        if (decoding is not null)
        {
            await decoding.ZeroChunksAsync(options.DeviceIsZeroed || target.IsKnownZeroed, cancellationToken).ConfigureAwait(false);
        }

        var have = new Bitfield(manifest.PieceCount);
        for (int i = 0; i < manifest.PieceCount; i++)
        {
            if (writer.HasPiece(i))
            {
                have.Set(i);
            }
        }

        // A target serves compressed pieces it re-encodes from its raw frames: each is checked before it is first served.
        var swarm = new TorrentSwarm(_host, manifest, device, writer, have, verifyOnFirstRead: decoding is not null || streaming is not null, superSeed: SuperSeedMode.Never)
        {
            StallTimeout = options.StallTimeout,
            Tls = tls,
            Upload = _host.Upload,
            Download = _host.Download,
            WebSeeding = WebSeedsFor(manifest, options),
        };
        BackgroundCheck? check = null;
        if (checkBeside)
        {
            swarm.BeginCheck();
            var index = PieceContentIndex.For(manifest);
            PreviousImageHint? hint = options.PreviousManifest is { } previous ? PreviousImageHint.Create(manifest, previous, index) : null;
            if (options.PreviousManifest is not null && hint is null)
            {
                Log.PreviousManifestNotComparable(_host.Logger, options.PreviousManifest.Name, manifest.Name);
            }

            check = new BackgroundCheck(manifest, device, writer, index, swarm, _host.Logger, Environment.ProcessorCount, _host.Time, hint);
        }

        if (streaming is not null)
        {
            swarm.UseStreamWindow(streaming.Window);
        }

        using var decoderStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task decoder = Task.CompletedTask;
        Log.DeployStarted(_host.Logger, manifest.Name, target.Name, have.Count, manifest.PieceCount, swarm.Picker!.Wanted.Count);
        Register(swarm);
        TimeSpan duration;
        using var checkStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task checking = Task.CompletedTask;
        try
        {
            swarm.Start();
            if (check is not null)
            {
                checking = RunCheckAsync(check, swarm, checkStop.Token);
            }

            decoder = streaming?.DecodeAsync(decoderStop.Token) ?? Task.CompletedTask;
            swarm.AddCandidates(options.Peers);
            foreach (IGrouping<IPAddress, (IPEndPoint Peer, IPAddress Source)> named in options.ExchangedPeers.GroupBy(p => p.Source))
            {
                swarm.AddCandidates(named.Select(p => p.Peer), named.Key, trusted: false);
            }

            PeerDiscovery discovery = StartSwarmDiscovery(manifest, swarm, options.Trackers, options.UseManifestTrackers, localDiscovery);
            await using var discoveryScope = discovery.ConfigureAwait(false);
            {
                using var reporting = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                Task reporter = progress is null ? Task.CompletedTask : ReportAsync(() => Snapshot(swarm, check, started), progress, reporting.Token);
                try
                {
                    // A decoder that fails (a stream that does not decode, a device error) ends the deployment at once.
                    await Task.WhenAny(swarm.Completed, decoder).WaitAsync(cancellationToken).ConfigureAwait(false);
                    if (decoder.IsFaulted)
                    {
                        await decoder.ConfigureAwait(false);
                    }

                    await swarm.Completed.WaitAsync(cancellationToken).ConfigureAwait(false);
                    await decoder.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    await checkStop.CancelAsync().ConfigureAwait(false);
                    await checking.ConfigureAwait(false);
                    await reporting.CancelAsync().ConfigureAwait(false);
                    await reporter.ConfigureAwait(false);
                    if (options.ResumeFilePath is not null && streaming is null && !swarm.Completed.IsCompletedSuccessfully)
                    {
                        await SaveResumeAsync(writer, options.ResumeFilePath).ConfigureAwait(false);
                    }
                }

                duration = _host.Time.GetElapsedTime(started);
                discovery.NotifyCompleted();
                await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
                if (decoding is not null)
                {
                    await decoding.VerifyRawAsync(cancellationToken).ConfigureAwait(false);
                }

                ThrowUnlessEveryPieceOnDevice(manifest, target, writer);
                if (streaming is not null)
                {
                    await streaming.VerifyRawAsync(cancellationToken).ConfigureAwait(false);
                    Log.StreamDecoded(_host.Logger, manifest.Name, target.Name, streaming.RawBytesWritten, streaming.PeakScratchBytes, scratch!.Capacity);
                }

                if (options.ResumeFilePath is not null && streaming is null)
                {
                    await SaveResumeAsync(writer, options.ResumeFilePath).ConfigureAwait(false);
                }

                progress?.Report(Snapshot(swarm, check, started));
                Log.DeployCompleted(_host.Logger, manifest.Name, target.Name, duration, swarm.BytesDownloaded, swarm.HashFailures);
                if (options.SeedAfter > TimeSpan.Zero)
                {
                    await Task.Delay(options.SeedAfter, _host.Time, cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            Unregister(swarm);
            await swarm.DisposeAsync().ConfigureAwait(false);
            await decoderStop.CancelAsync().ConfigureAwait(false);
            await decoder.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        return new DeploymentResult
        {
            PieceCount = manifest.PieceCount,
            PiecesDownloaded = swarm.PiecesDownloaded,
            PiecesAlreadyPresent = present.Present + (check?.Found ?? 0),
            PiecesCopiedLocally = check?.Copied ?? 0,
            ResumedPieces = present.Resumed,
            ResumedPiecesRejected = present.ResumedRejected,
            ZeroPieces = manifest.ZeroPieceCount,
            DuplicatePieces = manifest.DuplicatePieceCount,
            BytesDownloaded = swarm.BytesDownloaded,
            BytesSatisfiedLocally = BytesSatisfiedLocally(manifest) + swarm.BytesFilledLocally,
            BytesUploaded = swarm.BytesUploaded,
            HashFailures = swarm.HashFailures,
            PeersSeen = swarm.PeersSeen,
            Duration = duration,
            ScratchPeakBytes = streaming?.PeakScratchBytes ?? 0,
            TimeToFirstByte = Since(swarm, started, swarm.FirstByteTimestamp),
            TimeToFirstPiece = Since(swarm, started, swarm.FirstPieceTimestamp),
        };
    }

    /// <summary>
    /// Gets a torrent's manifest from peers, starting from a magnet link: its info dictionary through BEP 9
    /// metadata exchange and, for a v2-only torrent, its piece layer through BEP 52 hash requests. Everything is
    /// checked against the link's info-hash before it is returned.
    /// </summary>
    /// <param name="magnet">The magnet link (v1 <c>btih</c>, v2 <c>btmh</c>, or both).</param>
    /// <param name="options">
    /// Extra peers and trackers (the link's <c>x.pe</c> peers and <c>tr</c> trackers are always used), the size
    /// limit (<see cref="DeployOptions.MaxMetadataSize"/>) and how long to look (<see cref="DeployOptions.MetadataTimeout"/>);
    /// <see langword="null"/> for the defaults.
    /// </param>
    /// <param name="cancellationToken">Stops the fetch.</param>
    /// <returns>
    /// The manifest, with the link's trackers. It does not carry the link's peers: a deployment from it needs them in
    /// its options (<see cref="MagnetLink.ResolvePeersAsync"/>), as
    /// <see cref="DeployAsync(MagnetLink, IBlockDevice, DeployOptions?, IProgress{DeploymentProgress}?, CancellationToken)"/> does.
    /// </returns>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="TimeoutException">No peer delivered valid metadata in time; the message names the magnet link and what went wrong.</exception>
    /// <exception cref="InvalidTorrentException">The info dictionary matches the info-hash but is not a torrent this library can deploy.</exception>
    public async Task<TorrentManifest> FetchManifestAsync(MagnetLink magnet, DeployOptions? options = null, CancellationToken cancellationToken = default) =>
        (await FetchAsync(magnet, options ?? new DeployOptions(), cancellationToken).ConfigureAwait(false)).Manifest;

    /// <summary>
    /// Deploys an image named by a magnet link: fetches its manifest from peers (see
    /// <see cref="FetchManifestAsync"/>), then deploys as
    /// <see cref="DeployAsync(TorrentManifest, IBlockDevice, DeployOptions?, IProgress{DeploymentProgress}?, CancellationToken)"/>
    /// does, from the peers found on the way and the link's trackers.
    /// </summary>
    /// <param name="magnet">The magnet link.</param>
    /// <param name="target">The device to write; at least as long as the image.</param>
    /// <param name="options">Peers, trackers, metadata limits, resume file and more; <see langword="null"/> for the defaults.</param>
    /// <param name="progress">Receives progress about four times a second once the manifest is known; may be <see langword="null"/>.</param>
    /// <param name="cancellationToken">Stops the deployment.</param>
    /// <returns>What the deployment did.</returns>
    /// <exception cref="TimeoutException">No peer delivered the metadata in time.</exception>
    /// <exception cref="ArgumentException">The device is read-only or too short, or the options are invalid.</exception>
    /// <exception cref="IOException">The device failed.</exception>
    /// <exception cref="ManifestTrustException">
    /// <see cref="DeployOptions.Trust"/> is set (a magnet link carries no signature), or the metadata's info-hash is
    /// not <see cref="DeployOptions.ExpectedInfoHash"/>; nothing was written.
    /// </exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The overloads differ in the type of a required parameter, so no call is ambiguous.")]
    public async Task<DeploymentResult> DeployAsync(MagnetLink magnet, IBlockDevice target, DeployOptions? options = null, IProgress<DeploymentProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        options ??= new DeployOptions();
        if (options.Trust is not null)
        {
            throw new ManifestTrustException("A magnet link carries no signature, and only manifests signed by a trusted key are accepted: deploy from the signed .torrent instead. Nothing was written.", ManifestTrustFailure.Unsigned);
        }

        (TorrentManifest manifest, MetadataFetcher fetcher) = await FetchAsync(magnet, options, cancellationToken).ConfigureAwait(false);
        return await DeployAsync(manifest, target, options.WithPeers(fetcher.NamedPeers, fetcher.ExchangedPeers), progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes a limiter for bytes the caller uploads besides BitTorrent (an HTTP web seed, say): they are taken from the
    /// client's <see cref="BlockTorrentClientOptions.MaxUploadRate"/> bucket, shared with every peer, and from a bucket
    /// of <paramref name="maxUploadRate"/> of the limiter's own, which a seed given the limiter
    /// (<see cref="SeedOptions.UploadLimiter"/>) shares too.
    /// </summary>
    /// <param name="maxUploadRate">The limiter's own cap in bytes per second (a depot's cap per image); 0 for none.</param>
    /// <returns>The limiter.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxUploadRate"/> is negative.</exception>
    public UploadLimiter CreateUploadLimiter(long maxUploadRate = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxUploadRate);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return new UploadLimiter(this, _host.UploadBucket, maxUploadRate, _host.Time);
    }

    /// <summary>Seeds an image from a device until cancelled.</summary>
    /// <param name="manifest">The image's manifest.</param>
    /// <param name="source">The device that holds the image.</param>
    /// <param name="options">Peers, trackers, verification and super-seeding; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Stops seeding.</param>
    /// <returns>A task that completes (cancelled) when seeding stops.</returns>
    /// <exception cref="ArgumentException">The device is shorter than the image, or the options' <see cref="SeedOptions.UploadLimiter"/> is another client's or comes with a <see cref="SeedOptions.MaxUploadRate"/>.</exception>
    /// <exception cref="InvalidOperationException">
    /// The client is already deploying or seeding this torrent, or it is a TLS torrent and
    /// <see cref="BlockTorrentClientOptions.PeerCertificate"/> is missing or not admitted by its authority.
    /// </exception>
    /// <exception cref="OperationCanceledException">Seeding was stopped by <paramref name="cancellationToken"/>.</exception>
    public async Task SeedAsync(TorrentManifest manifest, IBlockDevice source, SeedOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(source);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        options ??= new SeedOptions();
        if (source.Length < manifest.Length)
        {
            throw new ArgumentException($"'{source.Name}' is {source.Length} bytes long, shorter than the image '{manifest.Name}' ({manifest.Length} bytes).", nameof(source));
        }

        if (options.UploadLimiter is { } limiter && (limiter.Owner != this || options.MaxUploadRate != 0))
        {
            throw new ArgumentException(limiter.Owner != this
                ? $"{nameof(SeedOptions)}.{nameof(SeedOptions.UploadLimiter)} was made by another client; make it with this client's {nameof(CreateUploadLimiter)}."
                : $"{nameof(SeedOptions)}.{nameof(SeedOptions.UploadLimiter)} and {nameof(SeedOptions.MaxUploadRate)} are both set; give the rate to {nameof(CreateUploadLimiter)} instead.", nameof(options));
        }

        SwarmTls? tls = SwarmTls.For(manifest, _host.Options.PeerCertificate);
        LocalPeerDiscovery? localDiscovery = LocalDiscoveryFor(options.UseLocalPeerDiscovery, manifest.IsPrivate);

        var have = new Bitfield(manifest.PieceCount);
        have.SetAll();
        var swarm = new TorrentSwarm(_host, manifest, source, writer: null, have, options.VerifyOnFirstRead, options.SuperSeeding)
        {
            Tls = tls,
            Upload = options.UploadLimiter?.Limit ?? (options.MaxUploadRate > 0 ? RateLimit.For(_host.UploadBucket, options.MaxUploadRate, _host.Time) : _host.Upload),
        };
        Register(swarm);
        try
        {
            Log.SeedStarted(_host.Logger, manifest.Name, source.Name);
            swarm.Start();
            swarm.AddCandidates(options.Peers);
            PeerDiscovery discovery = StartSwarmDiscovery(manifest, swarm, options.Trackers, options.UseManifestTrackers, localDiscovery);
            await using var discoveryScope = discovery.ConfigureAwait(false);
            {
                if (options.Progress is { } progress)
                {
                    long started = _host.Time.GetTimestamp();
                    await ReportAsync(() => SeedSnapshot(swarm, started), progress, cancellationToken).ConfigureAwait(false);
                }

                await Task.Delay(Timeout.InfiniteTimeSpan, _host.Time, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Unregister(swarm);
            await swarm.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Announces the swarm to its trackers (the per-call ones, plus the manifest's unless turned off) and, when
    /// <paramref name="localDiscovery"/> is given, by Local Service Discovery; feeds the peers found to the swarm.
    /// </summary>
    private PeerDiscovery StartSwarmDiscovery(TorrentManifest manifest, TorrentSwarm swarm, IEnumerable<Uri> trackers, bool useManifestTrackers, LocalPeerDiscovery? localDiscovery)
    {
        long length = manifest.Length;
        return StartDiscovery(
            manifest.InfoHashV1 ?? manifest.InfoHashV2!.Value,
            manifest.IsPrivate,
            trackers.Concat(useManifestTrackers ? ParseTrackers(manifest.Trackers) : []),
            localDiscovery,
            () => new TransferStats(swarm.BytesUploaded, swarm.BytesDownloaded, swarm.Writer is null ? 0 : Math.Max(0, length - swarm.BytesDownloaded)),
            swarm.AddCandidates);
    }

    /// <summary>Announces an info-hash to trackers (and by LSD when given) and feeds the peers found to <paramref name="onPeers"/>.</summary>
    private PeerDiscovery StartDiscovery(InfoHash infoHash, bool isPrivate, IEnumerable<Uri> trackers, LocalPeerDiscovery? localDiscovery, Func<TransferStats> stats, Action<IEnumerable<IPEndPoint>, IPAddress?> onPeers)
    {
        var discovery = PeerDiscovery.Create(
            infoHash,
            _host.PeerId,
            LocalEndPoint.Port,
            DiscoveryPolicy.For(isPrivate, localDiscoveryEnabled: localDiscovery is not null),
            trackers,
            [],
            localDiscovery,
            stats,
            logger: _host.Logger);
        discovery.Start(onPeers);
        return discovery;
    }

    /// <summary>
    /// Gets the client's Local Service Discovery for one call, starting it on the calling thread if needed (its
    /// sockets and interface list belong to that thread's network namespace), or <see langword="null"/> when the
    /// call does not use it: turned off (per call, else by the client's setting) or a private torrent (BEP 27).
    /// </summary>
    private LocalPeerDiscovery? LocalDiscoveryFor(bool? use, bool isPrivate) =>
        !isPrivate && (use ?? _host.Options.EnableLocalPeerDiscovery) ? EnsureLocalDiscovery() : null;

    private LocalPeerDiscovery EnsureLocalDiscovery()
    {
        lock (_localDiscoveryLock)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
            if (_localDiscovery is null)
            {
                var discovery = new LocalPeerDiscovery(_host.Options.LocalPeerDiscovery, _host.Logger, _host.Time);
                discovery.Start();
                _localDiscovery = discovery;
            }

            return _localDiscovery;
        }
    }

    private static IEnumerable<Uri> ParseTrackers(IEnumerable<string> trackers)
    {
        foreach (string tracker in trackers)
        {
            if (Uri.TryCreate(tracker, UriKind.Absolute, out Uri? uri))
            {
                yield return uri;
            }
        }
    }

    /// <summary>Fetches a magnet link's metadata; returns the manifest and the fetcher, which knows every peer heard of on the way.</summary>
    private async Task<(TorrentManifest Manifest, MetadataFetcher Fetcher)> FetchAsync(MagnetLink magnet, DeployOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(magnet);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        options.Validate();
        InfoHash infoHash = (magnet.InfoHashV1 ?? magnet.InfoHashV2)!.Value;
        string name = magnet.DisplayName is { Length: > 0 } dn ? $"magnet link '{dn}' ({infoHash})" : $"magnet link {infoHash}";
        // A magnet link cannot say whether its torrent is private; the metadata, once here, decides for the deployment.
        LocalPeerDiscovery? localDiscovery = LocalDiscoveryFor(options.UseLocalPeerDiscovery, isPrivate: false);
        var fetcher = new MetadataFetcher(_host, magnet.InfoHashV1, magnet.InfoHashV2, options.MaxMetadataSize);
        fetcher.AddCandidates(options.Peers);
        fetcher.AddCandidates(await magnet.ResolvePeersAsync(cancellationToken).ConfigureAwait(false));
        long left = magnet.ExactLength ?? 1;
        PeerDiscovery discovery = StartDiscovery(infoHash, isPrivate: false, options.Trackers.Concat(ParseTrackers(magnet.Trackers)), localDiscovery, () => new TransferStats(0, 0, left), fetcher.AddCandidates);
        MetadataFetcher.Result result;
        await using (discovery.ConfigureAwait(false))
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.MetadataTimeout);
            try
            {
                result = await fetcher.RunAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                IReadOnlyList<string> failures = fetcher.Failures;
                string why = failures.Count > 0
                    ? "what the peers did: " + string.Join("; ", failures)
                    : fetcher.KnownPeers.Count == 0 ? "no peer was found (give peers or trackers, or enable Local Service Discovery)" : "no peer answered";
                throw new TimeoutException($"No peer delivered the metadata of the {name} within {options.MetadataTimeout}: {why}.");
            }
        }

        TorrentManifest manifest = TorrentManifest.FromInfoDictionary(result.Info, infoHash, result.PieceLayer, magnet.Trackers);
        _host.Publish(new SwarmEvent(SwarmEventKind.MetadataReceived, infoHash.ToHex()) { Peer = result.Source });
        return (manifest, fetcher);
    }

    /// <summary>Streams the events of every swarm of this client from now on, until cancelled or the client is disposed.</summary>
    /// <param name="cancellationToken">Ends the stream.</param>
    /// <returns>The events, in the order they happened. A slow reader loses the oldest events beyond 10,000.</returns>
    public async IAsyncEnumerable<SwarmEvent> WatchEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var channel = Channel.CreateBounded<SwarmEvent>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_watchers)
        {
            _watchers.Add(channel);
        }

        try
        {
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out SwarmEvent? e))
                {
                    yield return e;
                }
            }
        }
        finally
        {
            lock (_watchers)
            {
                _watchers.Remove(channel);
            }
        }
    }

    /// <summary>Stops listening; running deployments and seeds should be cancelled first.</summary>
    /// <returns>A task that completes when the listener has stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _listener.DisposeAsync().ConfigureAwait(false);
        LocalPeerDiscovery? localDiscovery;
        lock (_localDiscoveryLock)
        {
            localDiscovery = _localDiscovery;
            _localDiscovery = null;
        }

        if (localDiscovery is not null)
        {
            await localDiscovery.DisposeAsync().ConfigureAwait(false);
        }

        lock (_watchers)
        {
            foreach (Channel<SwarmEvent> channel in _watchers)
            {
                channel.Writer.TryComplete();
            }
        }

        _host.DisposeWebSeedHttp();
    }

    /// <summary>The web seeds a deployment uses: the manifest's <c>url-list</c> (http and https only) and the options' own.</summary>
    private WebSeedPolicy? WebSeedsFor(TorrentManifest manifest, DeployOptions options)
    {
        if (!options.UseWebSeeds)
        {
            return null;
        }

        var urls = new List<Uri>();
        foreach (string text in manifest.WebSeeds)
        {
            if (Uri.TryCreate(text, UriKind.Absolute, out Uri? url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps))
            {
                urls.Add(url);
            }
        }

        urls.AddRange(options.WebSeeds);
        urls = [.. urls.Distinct()];
        return urls.Count == 0 ? null : new WebSeedPolicy(urls, _host.WebSeedHttp, options.WebSeedDelay, options.WebSeedWhenPeersBelow);
    }

    private static byte[] CreatePeerId(string prefix)
    {
        byte[] id = new byte[20];
        int n = Encoding.ASCII.GetBytes(prefix, id);
        const string Alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for (int i = n; i < id.Length; i++)
        {
            id[i] = (byte)Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }

        return id;
    }

    /// <summary>Refuses a manifest that is not the pinned one, or not signed by a trusted key.</summary>
    private void CheckManifest(TorrentManifest manifest, DeployOptions options)
    {
        if (options.ExpectedInfoHash is { } pinned && pinned != manifest.InfoHashV1 && pinned != manifest.InfoHashV2)
        {
            string actual = string.Join(" / ", new[] { manifest.InfoHashV1, manifest.InfoHashV2 }.OfType<InfoHash>().Select(h => h.ToHex()));
            throw new ManifestTrustException($"The manifest of '{manifest.Name}' has info-hash {actual}, not the pinned {pinned}: it is not the expected image. Nothing was written.", ManifestTrustFailure.InfoHashMismatch);
        }

        if (options.Trust is { } trust)
        {
            ManifestSignature signer = trust.Verify(manifest);
            Log.ManifestTrusted(_host.Logger, manifest.Name, signer.Fingerprint);
        }
    }

    // Zero pieces and every copy of a duplicate after the first never travel.
    private static long BytesSatisfiedLocally(TorrentManifest manifest)
    {
        long bytes = 0;
        for (int i = 0; i < manifest.PieceCount; i++)
        {
            if (manifest.IsZeroPiece(i) || manifest.GetCanonicalPiece(i) != i)
            {
                bytes += manifest.GetPieceSize(i);
            }
        }

        return bytes;
    }

    /// <summary>
    /// Runs a re-image's check beside its swarm; a check that fails fails the deployment. Ends quietly when the
    /// deployment stops it.
    /// </summary>
    private static async Task RunCheckAsync(BackgroundCheck check, TorrentSwarm swarm, CancellationToken cancellationToken)
    {
        try
        {
            await check.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The deployment ended first (cancelled, or failed for another reason).
        }
        catch (Exception e)
        {
            swarm.Fail(e);
        }
    }

    /// <summary>
    /// The last guard of the invariant in docs/ARCHITECTURE.md ("What complete means"): a deployment reports success
    /// only when the writer holds every piece as read back and hashed equal, or written after verification, in this run.
    /// </summary>
    private static void ThrowUnlessEveryPieceOnDevice(TorrentManifest manifest, IBlockDevice target, PieceWriter writer)
    {
        for (int piece = 0; piece < manifest.PieceCount; piece++)
        {
            if (!writer.HasPiece(piece))
            {
                throw new InvalidOperationException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"The deployment of '{manifest.Name}' onto '{target.Name}' ended with piece {piece} not verified on the device; it is not complete."));
            }
        }
    }

    private static DeploymentProgress Snapshot(TorrentSwarm swarm, BackgroundCheck? check, long started) => new()
    {
        PieceCount = swarm.PieceCount,
        PiecesChecked = check?.Checked ?? 0,
        IsChecking = check is { IsCompleted: false },
        PiecesCopiedLocally = check?.Copied ?? 0,
        PiecesOnDevice = swarm.PiecesHave,
        BytesDownloaded = swarm.BytesDownloaded,
        BytesUploaded = swarm.BytesUploaded,
        ConnectedPeers = swarm.ConnectedPeers,
        Elapsed = swarm.Time.GetElapsedTime(started),
        TimeToFirstByte = Since(swarm, started, swarm.FirstByteTimestamp),
        TimeToFirstPiece = Since(swarm, started, swarm.FirstPieceTimestamp),
    };

    /// <summary>The time from <paramref name="started"/> to a swarm's timestamp, or <see langword="null"/> for a moment that has not come (0).</summary>
    private static TimeSpan? Since(TorrentSwarm swarm, long started, long at) => at == 0 ? null : swarm.Time.GetElapsedTime(started, at);

    private static SeedProgress SeedSnapshot(TorrentSwarm swarm, long started) => new()
    {
        BytesUploaded = swarm.BytesUploaded,
        ConnectedPeers = swarm.ConnectedPeers,
        PeersSeen = swarm.PeersSeen,
        Peers = swarm.SnapshotPeers(),
        Elapsed = swarm.Time.GetElapsedTime(started),
    };

    /// <summary>Reports a snapshot four times a second until cancelled (the deployment or seed ended).</summary>
    private async Task ReportAsync<T>(Func<T> snapshot, IProgress<T> progress, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(250), _host.Time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                progress.Report(snapshot());
            }
        }
        catch (OperationCanceledException)
        {
            // The deployment or seed ended.
        }
    }

    /// <summary>
    /// Checks the pieces a resume file names and, with <see cref="DeployOptions.CheckExistingData"/>, the rest of the
    /// device; satisfies zero pieces and copies duplicates locally.
    /// </summary>
    /// <remarks>
    /// Nothing is taken on trust: a piece counts as on the device only once it was read back and hashed equal to the
    /// manifest here, or written by this deployment after verification. A resume file narrows what is read, it never
    /// replaces the read.
    /// </remarks>
    /// <returns>What was found already on the device.</returns>
    private async Task<TargetCheck> PrepareTargetAsync(TorrentManifest manifest, IBlockDevice target, PieceWriter writer, DeployOptions options, bool checkBeside, CancellationToken cancellationToken)
    {
        var check = default(TargetCheck);
        bool checkedAll = false;
        InfoHash? infoHash = manifest.InfoHashV1 ?? manifest.InfoHashV2;
        if (options.ResumeFilePath is { } path && File.Exists(path) && infoHash is { } hash)
        {
            if (ResumeState.TryLoad(path, hash, target.Name, target.Length, manifest.PieceCount, out ResumeState? state, out string? reason))
            {
                // With CheckExistingData, one pass over the device checks the named pieces and all the others.
                // With CheckExistingData and a check beside the swarm, the pieces named are read first and the rest beside it.
                bool everyPiece = options.CheckExistingData && !checkBeside;
                var (named, matched, others) = await writer.CheckResumeStateAsync(state, everyPiece, cancellationToken).ConfigureAwait(false);
                check = new TargetCheck(matched + others, named, named - matched);
                checkedAll = everyPiece;
            }
            else
            {
                Log.ResumeIgnored(_host.Logger, path, reason);
            }
        }

        if (checkBeside)
        {
            // The check beside the swarm zeroes zero pieces and copies duplicates once their regions are read.
            return check;
        }

        if (options.CheckExistingData && !checkedAll)
        {
            int found = await writer.RecheckAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            check = check with { Present = check.Present + found };
        }

        if (check.Present > 0)
        {
            Log.FoundOnDevice(_host.Logger, check.Present, target.Name);
        }

        await writer.SatisfyZeroPiecesAsync(cancellationToken).ConfigureAwait(false);
        await writer.CopyDuplicatesLocallyAsync(cancellationToken).ConfigureAwait(false);
        return check;
    }

    /// <summary>Makes a compressed stream's scratch: the options' factory, a sparse file in their folder, or memory.</summary>
    private static IScratchStore CreateScratch(DeployOptions options, int pieceLength)
    {
        if (options.ScratchSize < pieceLength)
        {
            throw new ArgumentException($"{nameof(DeployOptions.ScratchSize)} ({options.ScratchSize} bytes) must hold one piece of this stream ({pieceLength} bytes) at least.", nameof(options));
        }

        if (options.ScratchStoreFactory is { } factory)
        {
            return factory(options.ScratchSize, pieceLength);
        }

        return options.ScratchDirectory is { } folder
            ? FileScratchStore.Create(Path.Combine(folder, $"blocktorrent-scratch-{Guid.NewGuid():N}"), options.ScratchSize, pieceLength)
            : new MemoryScratchStore(options.ScratchSize);
    }

    /// <summary>Satisfies a stream's zero and duplicate pieces (the decoder feeds them itself); nothing on the target is checked.</summary>
    private static async Task<TargetCheck> PrepareStreamAsync(PieceWriter writer, CancellationToken cancellationToken)
    {
        await writer.SatisfyZeroPiecesAsync(cancellationToken).ConfigureAwait(false);
        return default;
    }

    private async Task SaveResumeAsync(PieceWriter writer, string path)
    {
        try
        {
            await writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            writer.CreateResumeState().Save(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or ObjectDisposedException)
        {
            Log.ResumeSaveFailed(_host.Logger, e, path);
        }
    }

    private void Register(TorrentSwarm swarm)
    {
        lock (_swarms)
        {
            if (_swarms.ContainsKey(swarm.InfoHashText))
            {
                throw new InvalidOperationException($"This client is already deploying or seeding '{swarm.Name}' ({swarm.InfoHashText}).");
            }

            _swarms.Add(swarm.InfoHashText, swarm);
        }
    }

    private void Unregister(TorrentSwarm swarm)
    {
        lock (_swarms)
        {
            _swarms.Remove(swarm.InfoHashText);
        }
    }

    private TorrentSwarm? Route(ReadOnlyMemory<byte> hash20)
    {
        lock (_swarms)
        {
            foreach (TorrentSwarm swarm in _swarms.Values)
            {
                if (swarm.Matches(hash20.Span))
                {
                    return swarm;
                }
            }
        }

        return null;
    }

    private bool HasEventWatchers
    {
        get
        {
            lock (_watchers)
            {
                return _watchers.Count > 0;
            }
        }
    }

    private void Publish(SwarmEvent swarmEvent)
    {
        lock (_watchers)
        {
            foreach (Channel<SwarmEvent> channel in _watchers)
            {
                channel.Writer.TryWrite(swarmEvent);
            }
        }
    }

    /// <summary>What <see cref="PrepareTargetAsync"/> found on the device.</summary>
    /// <param name="Present">Pieces read back and hashed equal to the manifest.</param>
    /// <param name="Resumed">Pieces the resume file named.</param>
    /// <param name="ResumedRejected">Named pieces that did not match.</param>
    private readonly record struct TargetCheck(int Present, int Resumed, int ResumedRejected);

    private sealed class Host(BlockTorrentClient client, BlockTorrentClientOptions options, ILogger logger, byte[] peerId, TimeProvider time) : ISwarmHost
    {
        private HttpClient? _webSeedHttp;

        public ReadOnlyMemory<byte> PeerId { get; } = peerId;

        public int ListenPort { get; set; }

        public BlockTorrentClientOptions Options { get; } = options;

        public SwarmSettings Settings { get; } = new()
        {
            ChokingPolicy = options.ChokingMode == ChokingMode.TitForTat ? ChokingPolicy.TitForTat : ChokingPolicy.UnchokeAll,
            MaxUploads = options.MaxUploads,
            RequestQueueTime = options.RequestQueueTime,
            MaxRequestQueueDepth = options.MaxRequestQueueDepth,
            RequestTimeout = options.RequestTimeout,
            TcpCongestionControl = options.TcpCongestionControl,
            MaxHashFailuresPerPeer = options.MaxHashFailuresPerPeer,
            MaxConnectionsPerTorrent = options.MaxConnectionsPerTorrent,
            ExtentSize = options.ExtentSize,
            ReadCacheSize = options.ReadCacheSize,
            EnablePeerExchange = options.EnablePeerExchange,
            PeerExchangeInterval = options.PeerExchangeInterval,
        };

        public TimeProvider Time { get; } = time;

        public ILogger Logger { get; } = logger;

        /// <summary>Gets the client web seed requests go through, made on first use.</summary>
        public HttpClient WebSeedHttp => LazyInitializer.EnsureInitialized(ref _webSeedHttp, () => Options.WebSeedHandler is { } handler
            ? new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(60) }
            : new HttpClient(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.None }) { Timeout = TimeSpan.FromSeconds(60) });

        /// <summary>Disposes the web seed client, if one was made.</summary>
        public void DisposeWebSeedHttp() => Interlocked.Exchange(ref _webSeedHttp, null)?.Dispose();

        /// <summary>Gets the client's upload bucket, shared by all its swarms, or null without a cap.</summary>
        public TokenBucket? UploadBucket { get; } = options.MaxUploadRate > 0 ? new TokenBucket(options.MaxUploadRate, time) : null;

        /// <summary>Gets the client's download bucket, shared by all its swarms, or null without a cap.</summary>
        public TokenBucket? DownloadBucket { get; } = options.MaxDownloadRate > 0 ? new TokenBucket(options.MaxDownloadRate, time) : null;

        /// <summary>Gets the upload limit of a swarm with no cap of its own.</summary>
        public RateLimit Upload => UploadBucket is null ? RateLimit.None : new RateLimit(UploadBucket, null);

        /// <summary>Gets the download limit of every swarm.</summary>
        public RateLimit Download => DownloadBucket is null ? RateLimit.None : new RateLimit(DownloadBucket, null);

        public void Publish(SwarmEvent swarmEvent) => client.Publish(swarmEvent);

        public bool HasEventWatchers => client.HasEventWatchers;
    }
}

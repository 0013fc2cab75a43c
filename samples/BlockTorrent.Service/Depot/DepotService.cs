using System.IO.Enumeration;
using System.Net;
using BlockTorrent.Compression;
using BlockTorrent.Devices;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;
using BlockTorrent.Service.Fleet;
using BlockTorrent.Service.Options;
using BlockTorrent.Service.Status;
using Microsoft.Extensions.Options;

namespace BlockTorrent.Service.Depot;

/// <summary>
/// The depot role: runs the embedded tracker, and seeds every image in the image folder with its manifest
/// (<c>IMAGE</c> + <c>IMAGE.torrent</c>), creating missing manifests when allowed. The folder is scanned at start
/// and every <see cref="DepotOptions.RescanInterval"/>: removed images stop, and new images and images or manifests
/// that changed (<see cref="FileStamp"/>) start seeding once they have settled (<see cref="ImageSettling"/>), so a
/// file still being copied in is never hashed or served. A manifest the depot made of an image that changed since is
/// made again.
/// </summary>
internal sealed class DepotService(IOptions<ImagingServiceOptions> options, StatusBoard board, FleetBoard fleet, DepotCredentials credentials, IHostApplicationLifetime lifetime, ILoggerFactory loggerFactory) : BackgroundService
{
    // Marks the manifests the depot made itself: those it may rewrite when its tracker moves.
    private const string CreatedBy = "blocktorrent depot";

    // A seekable compressed image: its manifest is made with it, from the raw image (blocktorrent create --compress).
    private const string SeekableExtension = ".btz";

    // The extensions of compressed images a folder may hold beside raw ones.
    private static readonly string[] CompressedExtensions = [".zst", ".gz", ".xz", SeekableExtension];

    private readonly ILogger _logger = loggerFactory.CreateLogger("BlockTorrent.Service.Depot");
    private readonly Dictionary<string, DepotImage> _images = new(StringComparer.Ordinal);
    private readonly HashSet<string> _orphansReported = new(StringComparer.Ordinal);
    private ImageSettling? _settling;

    // The tracker whose allowed torrents follow the images served; null when it tracks any torrent (or runs not).
    private EmbeddedTracker? _tracker;

    // The key the manifests are signed with (null: served as they are), and the depot's TLS swarm certificates.
    private DepotSigner? _signer;
    private DepotSwarmTls? _tls;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await ServeAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && stoppingToken.IsCancellationRequested))
        {
            // A depot that cannot serve (its tracker's or its peers' address is taken) stops the service with a
            // failure, so systemd (Restart=on-failure) or an operator sees it, instead of the host ending with 0.
            Log.DepotFailed(_logger, e, e.Message);
            board.ExitCode = 1;
            ImagingServiceHost.StopOnceStarted(lifetime);
        }
    }

    private async Task ServeAsync(CancellationToken stoppingToken)
    {
        ImagingServiceOptions settings = options.Value;
        DepotOptions depot = settings.Depot;
        board.Role = ServiceRole.Depot;
        EmbeddedTracker? tracker = null;
        if (!string.IsNullOrEmpty(depot.Tracker))
        {
            ImagingServiceOptionsValidator.TryParseEndPoint(depot.Tracker, out IPEndPoint trackerEndPoint);
            // Only the images the depot serves are tracked (each is allowed as it starts), unless the setting opens it.
            var trackerOptions = new EmbeddedTrackerOptions { ListenEndPoint = trackerEndPoint, AdvertisedHost = depot.TrackerHost, OnlyAllowedTorrents = !depot.TrackAnyTorrent };
            tracker = new EmbeddedTracker(trackerOptions, loggerFactory.CreateLogger<EmbeddedTracker>());
            await tracker.StartAsync(stoppingToken).ConfigureAwait(false);
            _tracker = trackerOptions.OnlyAllowedTorrents ? tracker : null;
            board.TrackerAnnounce = tracker.AnnounceUri;
            Log.TrackerStarted(_logger, tracker.AnnounceUri);
        }

        try
        {
            _signer = credentials.Signer;
            _tls = credentials.Tls;
            if (_signer is not null)
            {
                Log.SigningKey(_logger, _signer.Created ? "made" : "read", _signer.Path, _signer.Fingerprint);
            }

            if (_tls.Authority is { } authority)
            {
                Log.SwarmAuthority(_logger, _tls.Created ? "made" : "read", _tls.AuthorityPath!, "SHA256:" + authority.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256).ToLowerInvariant());
            }

            ImagingServiceOptionsValidator.TryParseEndPoint(settings.Listen, out IPEndPoint listen);
            var clientOptions = new BlockTorrentClientOptions
            {
                ListenEndPoint = listen,
                EnableLocalPeerDiscovery = settings.LocalPeerDiscovery,
                MaxUploadRate = settings.MaxUploadRate,
                MaxDownloadRate = settings.MaxDownloadRate,
                PeerCertificate = _tls.PeerCertificate,
            };
            await using var client = new BlockTorrentClient(clientOptions, loggerFactory);
            board.PeerEndPoint = client.LocalEndPoint.ToString();
            Log.DepotStarted(_logger, depot.ImageFolder!, client.LocalEndPoint);
            _settling = new ImageSettling(board.Time, depot.SettleTime);
            try
            {
                while (true)
                {
                    // An image still settling is looked at again when it may have settled, not only at the next rescan.
                    TimeSpan? settling = await ScanAsync(client, depot, tracker?.AnnounceUri, stoppingToken).ConfigureAwait(false);
                    TimeSpan wait = settling < depot.RescanInterval ? settling.Value : depot.RescanInterval;
                    await Task.Delay(wait, board.Time, stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // The service is stopping.
            }
            finally
            {
                foreach (DepotImage image in _images.Values)
                {
                    await image.StopAsync().ConfigureAwait(false);
                }

                _images.Clear();
            }
        }
        finally
        {
            if (tracker is not null)
            {
                await tracker.DisposeAsync().ConfigureAwait(false);
            }

        }
    }

    /// <summary>
    /// Brings the running seeds in line with the folder, and returns how soon an image still settling may have settled
    /// (<see langword="null"/> when none is).
    /// </summary>
    private async Task<TimeSpan?> ScanAsync(BlockTorrentClient client, DepotOptions depot, Uri? tracker, CancellationToken cancellationToken)
    {
        string folder = depot.ImageFolder!;
        Dictionary<string, (string Image, string Manifest)> found;
        try
        {
            found = FindImages(folder, depot);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.ScanFailed(_logger, e, folder, e.Message);
            return null;
        }

        foreach (string name in _images.Keys.ToList())
        {
            DepotImage known = _images[name];
            if (!found.ContainsKey(name))
            {
                Log.ImageRemoved(_logger, name);
                await StopAsync(known).ConfigureAwait(false);
                _images.Remove(name);
                board.RemoveImage(name);
                _settling!.Forget(name);
            }
            else if (known.Started && known.Stamps != ReadStamps(known.Status))
            {
                Log.ImageChanged(_logger, name);
                await StopAsync(known).ConfigureAwait(false);
                known.Started = false;
                known.Changed = true;
                known.Status.SetState("settling");
            }
        }

        foreach ((string name, (string image, string manifest)) in found)
        {
            if (!_images.ContainsKey(name))
            {
                var status = new ImageStatus(name, image, manifest, board.Time);
                status.SetState("settling");
                board.AddImage(status);
                _images.Add(name, new DepotImage(status, default));
                Log.ImageSettling(_logger, name, depot.SettleTime);
            }
        }

        TimeSpan? next = null;
        foreach ((string name, DepotImage entry) in _images)
        {
            if (entry.Started)
            {
                await RenewSignatureAsync(entry, cancellationToken).ConfigureAwait(false);
                continue;
            }

            ImageStamps stamps = ReadStamps(entry.Status);
            if (!_settling!.HasSettled(name, stamps, out TimeSpan wait))
            {
                next = next is TimeSpan soonest && soonest < wait ? soonest : wait;
                continue;
            }

            entry.Started = await StartAsync(client, entry, depot, tracker, cancellationToken).ConfigureAwait(false);

            // A manifest the depot just created or rewrote is not a change.
            entry.Stamps = ReadStamps(entry.Status);
        }

        return next;
    }

    /// <summary>Reads the stamps of an image and its manifest; a file whose status cannot be read counts as missing (and so as changed).</summary>
    private ImageStamps ReadStamps(ImageStatus status)
    {
        try
        {
            return ImageStamps.Read(status.ImagePath, status.ManifestPath);
        }
        catch (IOException e)
        {
            Log.ScanFailed(_logger, e, status.ImagePath, e.Message);
            return default;
        }
    }

    /// <summary>
    /// The images of the folder by name: every file with a manifest <c>NAME.torrent</c> beside it, and, when missing
    /// manifests are created, every file matching the image pattern. Hidden files and the manifests themselves are not images.
    /// </summary>
    private Dictionary<string, (string Image, string Manifest)> FindImages(string folder, DepotOptions depot)
    {
        var images = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        foreach (string path in Directory.EnumerateFiles(folder))
        {
            string name = Path.GetFileName(path);
            if (name.StartsWith('.') || name.EndsWith(".tmp", StringComparison.Ordinal))
            {
                continue;
            }

            if (name.EndsWith(".torrent", StringComparison.OrdinalIgnoreCase))
            {
                string imageName = name[..^".torrent".Length];
                if (!File.Exists(Path.Combine(folder, imageName)) && _orphansReported.Add(name))
                {
                    Log.OrphanManifest(_logger, name, imageName);
                }

                continue;
            }

            string manifest = path + ".torrent";
            if (File.Exists(manifest) || (depot.CreateMissingManifests && MatchesImagePattern(depot.ImagePattern, name)))
            {
                images[name] = (path, manifest);
            }
        }

        return images;
    }

    /// <summary>
    /// Whether a file is an image by its name: it matches the pattern, or does once the extension of a compressed
    /// image is taken off (<c>disk.img.zst</c>, <c>.gz</c>, <c>.xz</c>, and the seekable <c>disk.img.btz</c> for <c>*.img</c>).
    /// </summary>
    internal static bool MatchesImagePattern(string pattern, string name)
    {
        if (FileSystemName.MatchesSimpleExpression(pattern, name))
        {
            return true;
        }

        string extension = Path.GetExtension(name);
        return CompressedExtensions.Contains(extension, StringComparer.OrdinalIgnoreCase) && FileSystemName.MatchesSimpleExpression(pattern, name.AsSpan(0, name.Length - extension.Length));
    }

    /// <summary>Starts serving an image that settled; returns whether it started (or failed for good), rather than changed meanwhile.</summary>
    private async Task<bool> StartAsync(BlockTorrentClient client, DepotImage entry, DepotOptions depot, Uri? tracker, CancellationToken cancellationToken)
    {
        ImageStatus status = entry.Status;
        TorrentManifest manifest;
        IBlockDevice device;
        try
        {
            TorrentManifest? made = await LoadOrCreateManifestAsync(status, depot, tracker, entry.Changed, cancellationToken).ConfigureAwait(false);
            made = made is null ? null : await SignAsync(made, status, unsaved: false, cancellationToken).ConfigureAwait(false);
            if (made is null)
            {
                status.SetState("settling");
                return false;
            }

            manifest = made;
            entry.Manifest = manifest;
            entry.Changed = false;
            device = FileBlockDevice.Open(status.ImagePath, new FileBlockDeviceOptions { ReadOnly = true });
            if (device.Length < manifest.Length)
            {
                await device.DisposeAsync().ConfigureAwait(false);
                throw new InvalidDataException($"the image is {device.Length} bytes long and its manifest describes {manifest.Length} bytes; make the manifest again (delete {Path.GetFileName(status.ManifestPath)}).");
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidTorrentException or InvalidDataException or ArgumentException)
        {
            status.SetState("error", e.Message);
            Log.ImageFailed(_logger, e, status.Name, e.Message);
            return true;
        }

        string infoHash = (manifest.InfoHashV1 ?? manifest.InfoHashV2)!.Value.ToHex();
        // The image's peers and its web seed take from one bucket per image (and the client's), so the caps hold for both.
        UploadLimiter uploadLimiter = client.CreateUploadLimiter(depot.MaxUploadRatePerImage);
        status.SetManifest(infoHash, manifest.Length, manifest.PieceCount, uploadLimiter, manifest.SwarmAuthority is not null);
        fleet.AddImage(infoHash, status.Name, manifest.PieceCount, manifest.Length);
        var seedOptions = new SeedOptions
        {
            VerifyOnFirstRead = depot.VerifyReads,
            SuperSeeding = depot.SuperSeed switch { true => SuperSeedMode.Always, false => SuperSeedMode.Never, null => SuperSeedMode.Adaptive },
            UploadLimiter = uploadLimiter,
            Progress = new SynchronousProgress<SeedProgress>(p =>
            {
                status.Report(p);
                fleet.Observe(infoHash, p);
            }),
        };
        if (tracker is not null && !manifest.Trackers.Contains(tracker.ToString(), StringComparer.Ordinal))
        {
            seedOptions.Trackers.Add(tracker);
        }

        Log.Seeding(_logger, status.Name, manifest.Length, manifest.PieceCount, infoHash);
        entry.Tracked = [.. new[] { manifest.InfoHashV1, manifest.InfoHashV2 }.OfType<InfoHash>()];
        foreach (InfoHash hash in entry.Tracked)
        {
            _tracker?.AllowTorrent(hash);
        }

        entry.Start(ct => SeedAsync(client, manifest, device, seedOptions, status, ct), cancellationToken);
        return true;
    }

    /// <summary>Stops serving an image, and its torrent is no longer tracked.</summary>
    private async Task StopAsync(DepotImage image)
    {
        await image.StopAsync().ConfigureAwait(false);
        foreach (InfoHash hash in image.Tracked)
        {
            _tracker?.RemoveTorrent(hash);
        }

        image.Tracked = [];
    }

    private async Task SeedAsync(BlockTorrentClient client, TorrentManifest manifest, IBlockDevice device, SeedOptions seedOptions, ImageStatus status, CancellationToken cancellationToken)
    {
        await using (device.ConfigureAwait(false))
        {
            try
            {
                // SeedAsync has registered the torrent with the client when it returns its task: only then is the
                // image shown as served.
                Task seeding = client.SeedAsync(manifest, device, seedOptions, cancellationToken);
                status.SetState("seeding");
                await seeding.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                status.SetState("stopped");
            }
            catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException)
            {
                status.SetState("error", e.Message);
                Log.ImageFailed(_logger, e, status.Name, e.Message);
            }
        }
    }

    /// <summary>
    /// Loads <c>IMAGE.torrent</c>, or creates it (hybrid v1+v2, announcing to the depot's tracker) when it is missing.
    /// A manifest an earlier run of the depot created announces to that run's tracker; when the tracker's address
    /// changed since, the file is rewritten to announce to this run's (announce is outside the info dictionary, so
    /// the info-hash does not change), or targets given it would announce to a dead address. A manifest someone else
    /// made is theirs: it is left as it is, and the depot announces to its own tracker besides. A manifest the depot
    /// made of an image that changed since (<paramref name="imageChanged"/> while served, or a change after the
    /// manifest was written, as after a restart) is made again. Returns <see langword="null"/> when the image changed
    /// while it was hashed.
    /// </summary>
    private async Task<TorrentManifest?> LoadOrCreateManifestAsync(ImageStatus status, DepotOptions depot, Uri? tracker, bool imageChanged, CancellationToken cancellationToken)
    {
        string[] trackers = tracker is null ? [] : [tracker.ToString()];
        if (File.Exists(status.ManifestPath))
        {
            TorrentManifest loaded = await TorrentManifest.LoadAsync(status.ManifestPath, cancellationToken).ConfigureAwait(false);
            if (loaded.CreatedBy == CreatedBy && (imageChanged || ChangedSince(status.ImagePath, status.ManifestPath) || !_tls!.Matches(loaded)))
            {
                Log.ManifestRemade(_logger, status.Name, Path.GetFileName(status.ManifestPath));
                return await CreateManifestAsync(status, depot, trackers, cancellationToken).ConfigureAwait(false);
            }

            // A manifest that announces nowhere (a captured image's) is given the depot's tracker, or targets find no peer.
            if (tracker is null || (loaded.CreatedBy != CreatedBy && loaded.Trackers.Count > 0) || loaded.Trackers.SequenceEqual(trackers, StringComparer.Ordinal))
            {
                return loaded;
            }

            Log.ManifestTrackerRewritten(_logger, Path.GetFileName(status.ManifestPath), string.Join(", ", loaded.Trackers), tracker);
            return await SignAsync(loaded.WithTrackers(trackers), status, unsaved: true, cancellationToken).ConfigureAwait(false);
        }

        return await CreateManifestAsync(status, depot, trackers, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Whether the image's last change (its ctime on Linux) is later than its manifest's last write.</summary>
    private static bool ChangedSince(string image, string manifest) =>
        FileStamp.Read(image) is FileStamp i && FileStamp.Read(manifest) is FileStamp m && Math.Max(i.LastWriteUtc.Ticks, i.LastChangeUtc.Ticks) > m.LastWriteUtc.Ticks;

    /// <summary>Hashes the image into a new manifest and saves it; <see langword="null"/> when the image changed meanwhile.</summary>
    private async Task<TorrentManifest?> CreateManifestAsync(ImageStatus status, DepotOptions depot, string[] trackers, CancellationToken cancellationToken)
    {
        Log.CreatingManifest(_logger, Path.GetFileName(status.ManifestPath), status.Name);
        FileStamp? before = FileStamp.Read(status.ImagePath);
        status.SetState("hashing");
        var builderOptions = new ManifestBuilderOptions { PieceLength = depot.PieceSize, Name = status.Name, CreatedBy = CreatedBy, SwarmAuthority = _tls!.Authority };
        foreach (string url in trackers)
        {
            builderOptions.Trackers.Add(url);
        }

        if (!string.IsNullOrEmpty(depot.WebSeedUrl))
        {
            builderOptions.WebSeeds.Add(depot.WebSeedUrl);
        }

        if (status.ImagePath.EndsWith(SeekableExtension, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"{status.Name} is a seekable compressed image, whose manifest is made with it from the raw image: put the manifest 'blocktorrent create --compress zstd IMAGE --compressed-file {status.Name} -o {Path.GetFileName(status.ManifestPath)}' writes beside it.");
        }

        TorrentManifest manifest;
        if (StreamImageBuilder.DetectFormat(status.ImagePath) is { } format)
        {
            // A compressed stream is described as it is, as 'blocktorrent create' does: decoded once for the raw length and SHA-256.
            Log.StreamImage(_logger, status.Name, CompressedManifests.StreamName(format));
            manifest = await StreamImageBuilder.CreateAsync(status.ImagePath, builderOptions, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            manifest = await ManifestBuilder.CreateAsync(status.ImagePath, builderOptions, cancellationToken).ConfigureAwait(false);
        }

        if (FileStamp.Read(status.ImagePath) != before)
        {
            Log.ImageChangedWhileHashing(_logger, status.Name);
            return null;
        }

        return await SignAsync(manifest, status, unsaved: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// With <c>Depot:SigningKey</c>, signs a manifest that is not current (<see cref="DepotSigner.IsCurrent"/>: no valid
    /// signature by the depot's key with its chain and enough of its lifetime left) and saves it (the signature is
    /// outside the info dictionary: the info-hashes and the swarm stay the same).
    /// </summary>
    /// <remarks>
    /// A manifest the depot made or changed (<paramref name="unsaved"/>) is saved only here, once signed: targets fetch
    /// the manifest file as soon as it exists, and one that saw it before its signature would refuse it.
    /// </remarks>
    private async Task<TorrentManifest> SignAsync(TorrentManifest manifest, ImageStatus status, bool unsaved, CancellationToken cancellationToken)
    {
        DateTimeOffset now = board.Time.GetUtcNow();
        if (_signer is null || _signer.IsCurrent(manifest, now))
        {
            if (unsaved)
            {
                await SaveAsync(manifest, status.ManifestPath, cancellationToken).ConfigureAwait(false);
            }

            return manifest;
        }

        TorrentManifest signed = _signer.Sign(manifest, now);
        await SaveAsync(signed, status.ManifestPath, cancellationToken).ConfigureAwait(false);
        Log.ManifestSigned(_logger, Path.GetFileName(status.ManifestPath), _signer.Fingerprint);
        return signed;
    }

    /// <summary>Signs a served image's manifest again when its signature is no longer current (it nears its expiry); the seed goes on.</summary>
    private async Task RenewSignatureAsync(DepotImage entry, CancellationToken cancellationToken)
    {
        if (entry.Manifest is not { } manifest || _signer is null || _signer.IsCurrent(manifest, board.Time.GetUtcNow()))
        {
            return;
        }

        try
        {
            entry.Manifest = await SignAsync(manifest, entry.Status, unsaved: false, cancellationToken).ConfigureAwait(false);

            // The rewritten manifest is the depot's own change, not the operator's: the seed is not restarted.
            entry.Stamps = ReadStamps(entry.Status);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Log.ScanFailed(_logger, e, entry.Status.ManifestPath, e.Message);
        }
    }

    /// <summary>Writes a manifest beside its final name and renames it, so a target or a rescan never sees half of it.</summary>
    private static async Task SaveAsync(TorrentManifest manifest, string path, CancellationToken cancellationToken)
    {
        string temporary = path + ".tmp";
        await manifest.SaveAsync(temporary, cancellationToken).ConfigureAwait(false);
        File.Move(temporary, path, overwrite: true);
    }
}

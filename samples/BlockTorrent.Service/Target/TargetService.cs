using System.Net;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Compression;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;
using BlockTorrent.Service.Options;
using BlockTorrent.Service.Status;
using Microsoft.Extensions.Options;

namespace BlockTorrent.Service.Target;

/// <summary>
/// The target role: gets the manifest (a file, a URL, or a magnet link), deploys the image to the device with a
/// resume file (a restarted service fetches only what is missing), reports progress to the log and the status
/// endpoint, then seeds the finished device to the other targets.
/// </summary>
internal sealed class TargetService(IOptions<ImagingServiceOptions> options, StatusBoard board, ManifestSource manifests, TargetEnrolment enrolment, IHostApplicationLifetime lifetime, ILoggerFactory loggerFactory) : BackgroundService
{
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);
    private readonly ILogger _logger = loggerFactory.CreateLogger("BlockTorrent.Service.Target");

    /// <summary>Gets the deployment's entry on the status board, there from the moment the service starts.</summary>
    private TargetStatus Status { get; } = board.Target = new TargetStatus(options.Value.Target.Image?.Trim() ?? string.Empty, options.Value.Target.Device ?? string.Empty, board.Time);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ImagingServiceOptions settings = options.Value;
        TargetOptions target = settings.Target;
        string image = target.Image!.Trim();
        string devicePath = target.Device!;
        TargetStatus status = Status;
        board.Role = ServiceRole.Target;
        string? resumeFile = target.ResumeFile;
        try
        {
            ImagingServiceOptionsValidator.TryParseEndPoint(settings.Listen, out IPEndPoint listen);
            DeployOptions deployOptions = CreateDeployOptions(target, settings.LocalPeerDiscovery);
            using X509Certificate2? configuredCertificate = string.IsNullOrWhiteSpace(target.TlsCertificate) ? null : TrustFiles.LoadCertificateWithKey(target.TlsCertificate, target.TlsKey);

            // A target of an https depot fetches the manifest first, then enrols there (or reuses its enrolment) for
            // what is not configured: its swarm certificate, and the anchors the manifest must be signed to.
            TorrentManifest? manifest = null;
            EnrolledCredentials? enrolled = null;
            if (TargetEnrolment.IsWanted(target, out Uri depotImage))
            {
                status.SetState("fetching-manifest");
                manifest = await manifests.DownloadAsync(depotImage, stoppingToken).ConfigureAwait(false);
                status.SetState("enrolling");
                enrolled = await enrolment.GetAsync(depotImage, manifests.ServerFingerprint, manifest, stoppingToken).ConfigureAwait(false);
                if (target.RequireSignature && deployOptions.Trust is null)
                {
                    deployOptions.Trust = enrolled.Trust ?? throw new InvalidOperationException($"the depot {depotImage.Authority} signs no manifests (Depot:Sign is off there), and this target requires signed ones: turn signing on at the depot, or set {ImagingServiceOptions.Section}:Target:RequireSignature to false. Nothing was written.");
                }
            }

            using X509Certificate2? enrolledCertificate = configuredCertificate is null ? enrolled?.Certificate : null;
            X509Certificate2? peerCertificate = configuredCertificate ?? enrolledCertificate;

            // Web seeds (the depot's https among them) are trusted exactly as the server the manifest comes from.
            using HttpClientHandler webSeedHandler = ServerTrust.Create(target.ServerCertificate, target.ServerFingerprint).CreateHandler();
            var clientOptions = new BlockTorrentClientOptions
            {
                WebSeedHandler = webSeedHandler,
                ListenEndPoint = listen,
                EnableLocalPeerDiscovery = settings.LocalPeerDiscovery,
                MaxUploadRate = settings.MaxUploadRate,
                MaxDownloadRate = settings.MaxDownloadRate,
                PeerCertificate = peerCertificate,
            };
            await using var client = new BlockTorrentClient(clientOptions, loggerFactory);
            board.PeerEndPoint = client.LocalEndPoint.ToString();
            board.PeerId = Convert.ToHexStringLower(client.PeerId.Span);
            if (manifest is null)
            {
                status.SetState("fetching-manifest");
                manifest = await manifests.GetAsync(client, image, deployOptions, stoppingToken).ConfigureAwait(false);
            }

            string infoHash = (manifest.InfoHashV1 ?? manifest.InfoHashV2)!.Value.ToHex();
            status.SetManifest(manifest.Name, infoHash, manifest.Length, manifest.PieceCount);

            // The manifest is checked before the device is opened (opening an image file may create it).
            CheckManifest(manifest, deployOptions);
            CheckSwarmCertificate(manifest, peerCertificate);
            StreamImage? stream = StreamImage.FromManifest(manifest);
            CheckScratch(manifest, stream, target);
            resumeFile ??= ResumeFiles.DefaultPath(manifest, devicePath);
            bool existed = File.Exists(devicePath) || TargetDevices.IsDevicePath(devicePath);
            if (existed)
            {
                // What this service last deployed to the device tells the check where each piece's bytes sit.
                (TorrentManifest? previous, string at, string? problem) = await PreviousManifests.TryLoadAsync(devicePath, stoppingToken).ConfigureAwait(false);
                if (problem is not null)
                {
                    Log.PreviousManifestUnreadable(_logger, devicePath, at, problem);
                }
                else if (previous is not null)
                {
                    Log.PreviousManifest(_logger, devicePath, previous.Name, at);
                }

                deployOptions.PreviousManifest = previous;
            }

            // A compressed image (seekable or a stream) lands raw: the device holds its raw length.
            IBlockDevice device = await TargetDevices.OpenTargetAsync(devicePath, CompressedManifests.ImageLength(manifest), target.Force, exclusive: true, _logger, stoppingToken).ConfigureAwait(false);
            await using var deviceScope = device.ConfigureAwait(false);
            deployOptions.ResumeFilePath = resumeFile;
            deployOptions.CheckExistingData = existed;
            deployOptions.DeviceIsZeroed = !existed;
            Log.Deploying(_logger, manifest.Name, manifest.Length, manifest.PieceCount, device.Name, client.LocalEndPoint, resumeFile);
            status.SetState("deploying");
            long lastLog = board.Time.GetTimestamp();
            var progress = new SynchronousProgress<DeploymentProgress>(p =>
            {
                status.Report(p);
                if (board.Time.GetElapsedTime(lastLog) >= LogInterval)
                {
                    lastLog = board.Time.GetTimestamp();
                    Log.Progress(_logger, p.PieceCount == 0 ? 0 : 100.0 * p.PiecesOnDevice / p.PieceCount, p.PiecesOnDevice, p.PieceCount, p.BytesDownloaded, p.ConnectedPeers, p.BytesUploaded);
                }
            });
            DeploymentResult result = await client.DeployAsync(manifest, device, deployOptions, progress, stoppingToken).ConfigureAwait(false);
            status.Complete(result);
            status.SetState("complete");
            Log.Deployed(_logger, manifest.Name, device.Name, result.Duration, result.PiecesDownloaded, result.PiecesAlreadyPresent, result.BytesSatisfiedLocally);
            if (stream is not null)
            {
                Log.StreamDecoded(_logger, manifest.Name, CompressedManifests.StreamName(stream.Format), stream.RawLength, result.ScratchPeakBytes, target.ScratchSize);
            }

            // The target is complete and verified: a resume file would only go stale if the device changes later.
            // What the device now holds is the next re-image's hint.
            File.Delete(resumeFile);
            await PreviousManifests.RememberAsync(manifest, devicePath, stoppingToken).ConfigureAwait(false);
            if (stream is not null)
            {
                // The device holds the raw image, and a stream's pieces cannot be made again from it. The target
                // served its pieces to the others while it deployed.
                Log.NoSeedingOfCompressed(_logger, manifest.Name);
            }
            else if (CompressedImage.FromManifest(manifest) is { } seekable)
            {
                // A seekable image's pieces are re-encoded from the raw device, and served only when they hash equal.
                IBlockDevice file = seekable.AsCompressedFile(device);
                await using (file.ConfigureAwait(false))
                {
                    await SeedAfterAsync(client, manifest, file, target, deployOptions, status, stoppingToken).ConfigureAwait(false);
                }
            }
            else
            {
                await SeedAfterAsync(client, manifest, device, target, deployOptions, status, stoppingToken).ConfigureAwait(false);
            }

            if (target.StopWhenDone)
            {
                ImagingServiceHost.StopOnceStarted(lifetime);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            if (status.State is "deploying")
            {
                status.SetState("stopped");
                Log.Interrupted(_logger, devicePath, resumeFile ?? "(none)");
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A target that cannot be imaged stops the service with a failure, so systemd (Restart=on-failure) or
            // an operator sees it; the resume file keeps what was done.
            string reason = Describe(e);
            status.SetState("failed", reason);
            Log.DeployFailed(_logger, e, image, devicePath, reason);
            board.ExitCode = 1;
            ImagingServiceHost.StopOnceStarted(lifetime);
        }
    }

    /// <summary>Turns a failure into the sentence the log and the status endpoint show.</summary>
    internal static string Describe(Exception e) => e switch
    {
        UnauthorizedAccessException => e.Message + " (imaging a device needs root or membership of the 'disk' group)",
        _ => e.Message,
    };

    /// <summary>Refuses a manifest that is not the pinned one or not signed by a trusted key, as DeployAsync would.</summary>
    private void CheckManifest(TorrentManifest manifest, DeployOptions deployOptions)
    {
        if (deployOptions.ExpectedInfoHash is { } pinned && manifest.InfoHashV1 != pinned && manifest.InfoHashV2 != pinned)
        {
            throw new ManifestTrustException($"The manifest of '{manifest.Name}' is not the pinned image {pinned}. Nothing was written.", ManifestTrustFailure.InfoHashMismatch);
        }

        if (deployOptions.Trust is { } trust)
        {
            Log.ManifestTrusted(_logger, manifest.Name, trust.Verify(manifest).Fingerprint);
        }
    }

    /// <summary>Refuses a compressed stream whose piece does not fit the configured scratch, before the device is opened.</summary>
    private static void CheckScratch(TorrentManifest manifest, StreamImage? stream, TargetOptions target)
    {
        if (stream is not null && target.ScratchSize < manifest.PieceLength)
        {
            throw new InvalidOperationException($"'{manifest.Name}' is a {CompressedManifests.StreamName(stream.Format)} stream of {manifest.PieceLength}-byte pieces, and {ImagingServiceOptions.Section}:Target:ScratchSize ({target.ScratchSize} bytes) must hold one piece at least. Nothing was written.");
        }
    }

    /// <summary>Refuses a TLS swarm this target holds no certificate for, before the device is opened.</summary>
    private void CheckSwarmCertificate(TorrentManifest manifest, X509Certificate2? certificate)
    {
        if (manifest.SwarmAuthority is not { } authority)
        {
            return;
        }

        if (certificate is null)
        {
            throw new InvalidOperationException($"'{manifest.Name}' is a TLS swarm (its authority is '{authority.Subject}'): give this target a certificate it issued as {ImagingServiceOptions.Section}:Target:TlsCertificate (blocktorrent tls issue), or let it enrol at its depot (an https Target:Image). Nothing was written.");
        }

        if (!SwarmCertificates.Admits(authority, manifest.Name, certificate, null, out string? reason))
        {
            throw new InvalidOperationException($"The swarm of '{manifest.Name}' would refuse {ImagingServiceOptions.Section}:Target:TlsCertificate: {reason}. Nothing was written.");
        }

        Log.TlsSwarm(_logger, manifest.Name, certificate.Subject);
    }

    /// <summary>The deployment's options from the target's settings.</summary>
    internal static DeployOptions CreateDeployOptions(TargetOptions target, bool lsd)
    {
        var deployOptions = new DeployOptions
        {
            UseLocalPeerDiscovery = lsd,
            VerifyAfterWrite = target.Verify,
            StallTimeout = target.StallTimeout,
            Trust = string.IsNullOrWhiteSpace(target.Trust) ? null : ManifestTrust.Load(target.Trust),
            ExpectedInfoHash = target.PinnedInfoHash is { } pinned ? InfoHash.FromHex(pinned) : null,
            ScratchSize = target.ScratchSize,
            ScratchDirectory = string.IsNullOrWhiteSpace(target.ScratchFolder) ? null : target.ScratchFolder,
        };
        foreach (string peer in target.Peers)
        {
            ImagingServiceOptionsValidator.TryParseEndPoint(peer, out IPEndPoint endPoint);
            deployOptions.Peers.Add(endPoint);
        }

        foreach (string tracker in target.Trackers)
        {
            deployOptions.Trackers.Add(new Uri(tracker));
        }

        return deployOptions;
    }

    private async Task SeedAfterAsync(BlockTorrentClient client, TorrentManifest manifest, IBlockDevice device, TargetOptions target, DeployOptions deployOptions, TargetStatus status, CancellationToken stoppingToken)
    {
        TimeSpan seedFor = target.SeedingTime;
        if (seedFor == TimeSpan.Zero)
        {
            return;
        }

        var seedOptions = new SeedOptions { UseLocalPeerDiscovery = deployOptions.UseLocalPeerDiscovery, Progress = new SynchronousProgress<SeedProgress>(status.ReportSeeding) };
        foreach (IPEndPoint peer in deployOptions.Peers)
        {
            seedOptions.Peers.Add(peer);
        }

        foreach (Uri tracker in deployOptions.Trackers)
        {
            seedOptions.Trackers.Add(tracker);
        }

        using var seeding = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        if (seedFor != Timeout.InfiniteTimeSpan)
        {
            seeding.CancelAfter(seedFor);
        }

        status.SetState("seeding");
        Log.SeedingAfter(_logger, manifest.Name, device.Name, seedFor == Timeout.InfiniteTimeSpan ? "until the service stops" : $"for {seedFor}");
        try
        {
            await client.SeedAsync(manifest, device, seedOptions, seeding.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (seeding.IsCancellationRequested)
        {
            // The seeding time is over, or the service is stopping: either way the target is complete.
        }

        status.SetState("complete");
    }
}

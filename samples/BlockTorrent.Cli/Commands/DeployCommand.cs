using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Cli.Parsing;
using BlockTorrent.Cli.Progress;
using BlockTorrent.Compression;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;
using BlockTorrent.Writing;
using Microsoft.Extensions.Logging;

namespace BlockTorrent.Cli.Commands;

/// <summary>
/// <c>blocktorrent deploy FILE.torrent --target DEVICE_OR_FILE</c>: images the target, resuming an interrupted run,
/// and exits 0 only when the target is verified complete.
/// </summary>
internal static class DeployCommand
{
    public static Command Build(CliContext context)
    {
        var source = new Argument<string>("FILE.torrent|URL|MAGNET") { Description = "The image's manifest: a .torrent file, an http(s) URL of one (a depot's https://depot:8580/images/NAME.torrent; #btih=HEX at its end pins the image), or a magnet link." };
        var target = new Option<string>("--target") { Description = "The device or image file to write.", HelpName = "DEVICE_OR_FILE", Required = true };
        Option<IPEndPoint[]> peers = CliOptions.EndPointList("--peer", "A peer to connect to (a depot or another target); repeat for several.");
        Option<string[]> trackers = CliOptions.Urls("--tracker", "A tracker to announce to, besides the torrent's own.");
        Option<string[]> webSeeds = CliOptions.Urls("--web-seed", "A web seed besides the torrent's own url-list: an http(s) server with the image's bytes, answering range requests, used for pieces no peer has and while the peers are slow. Repeat for several.");
        var lsd = new Option<bool>("--lsd") { Description = "Find peers on the local network with Local Service Discovery (BEP 14)." };
        Option<IPEndPoint?> listen = CliOptions.EndPoint("--listen", $"Where to accept peer connections (default: 0.0.0.0:{SwarmSupport.DefaultPort}).");
        Option<string?> congestionControl = SwarmSupport.CongestionControlOption();
        (Option<long?> maxUploadRate, Option<long?> maxDownloadRate) = SwarmSupport.RateOptions();
        Option<TimeSpan?> seedAfter = CliOptions.Duration("--seed-after", "Keep seeding the finished target to other peers for this long (30s, 10m, forever). Default: 0.");
        var verify = new Option<bool>("--verify") { Description = "Read every piece back from the target and check it after the final flush." };
        var force = new Option<bool>("--force") { Description = "Override the device refusals that may be overridden (never: the running system's disk, a read-only device, the kernel's exclusive claim)." };
        var noExclusive = new Option<bool>("--no-exclusive") { Description = "Open a block device without claiming it exclusively (O_EXCL), so it can be written while mounted or held; --force alone never does this." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Check the target and show what would be fetched, without writing or connecting." };
        var resumeFile = new Option<string?>("--resume-file") { Description = "Where to record which pieces are on the target, so a rerun reads back and hashes those first instead of fetching them (default: next to an image file, or in the state folder for a device).", HelpName = "FILE" };
        var previous = new Option<string?>("--previous") { Description = "The .torrent of the image the target holds now (last month's): where each piece's bytes sit, so a re-image fetches only the changed pieces however fast the link. Default: the manifest last deployed to the target from this machine, remembered beside the resume state.", HelpName = "OLD.torrent" };
        Option<TimeSpan?> timeout = CliOptions.Duration("--timeout", "Give up after this long without completing, with exit code 6 (the next run resumes). Default: no limit.");
        Option<TimeSpan?> stallTimeout = CliOptions.Duration("--stall-timeout", "Stop with exit code 7 when pieces still missing have no usable source (the connected peers lack them, or the peers that had them were banned) and nothing arrived for this long (30s, 10m, forever). Default: 60s.");
        var trust = new Option<string?>("--trust") { Description = "Deploy only a manifest signed by a key in this PEM file (PUBLIC KEY or CERTIFICATE blocks); anything else exits 8 before the target is opened.", HelpName = "FILE" };
        var serverCert = new Option<string?>("--server-cert") { Description = "For an https URL: accept only a server presenting a certificate in this PEM file (a depot's depot-https.crt), or one a CA in it issued for the URL's host name, instead of the machine's certificate authorities; another server exits 8 before anything is written.", HelpName = "FILE" };
        var serverFingerprint = new Option<string?>("--server-fingerprint") { Description = "For an https URL: accept only a server whose certificate has this SHA-256 fingerprint (as a depot logs it); another server exits 8 before anything is written.", HelpName = "SHA256:HEX" };
        (Option<string?> tlsCert, Option<string?> tlsKey) = SwarmSupport.TlsCertificateOptions();
        Option<InfoHash?> btih = CliOptions.InfoHash("--btih", "Deploy only the image with this info-hash (40 or 64 hex digits, v1 or v2); another manifest exits 8 before the target is opened.");
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON events instead of text." };
        Option<long?> scratchSize = CliOptions.Size("--scratch-size", "For a compressed stream (.img.zst, .img.gz, .img.xz): the most of it held while it waits for the decoder, whatever the image's size (default: 256MiB).", bytes => bytes > 0 ? null : "it must be positive.");
        var scratchDir = new Option<string?>("--scratch-dir") { Description = "For a compressed stream: hold its scratch in a temporary file in this folder instead of memory.", HelpName = "FOLDER" };
        var lifeline = new Option<bool>("--exit-on-stdin-eof")
        {
            Description = "Stop cleanly when standard input closes (used by 'demo' to stop its child processes).",
            Hidden = true,
        };
        var command = new Command("deploy", "Image a target from peers: resume if interrupted; exit 0 only when the target is verified complete.")
        {
            source, target, peers, trackers, webSeeds, lsd, listen, congestionControl, seedAfter, verify, force, noExclusive, dryRun, resumeFile, previous, timeout, stallTimeout, trust, serverCert, serverFingerprint, btih, tlsCert, tlsKey, json, lifeline, maxUploadRate, maxDownloadRate, scratchSize, scratchDir,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var request = new DeployRequest
            {
                Source = parse.GetRequiredValue(source),
                Target = parse.GetRequiredValue(target),
                Peers = parse.GetValue(peers) ?? [],
                Trackers = parse.GetValue(trackers) ?? [],
                WebSeeds = parse.GetValue(webSeeds) ?? [],
                Lsd = parse.GetValue(lsd),
                Listen = parse.GetValue(listen),
                CongestionControl = parse.GetValue(congestionControl),
                Rates = new SwarmSupport.Rates(parse.GetValue(maxUploadRate) ?? 0, parse.GetValue(maxDownloadRate) ?? 0),
                SeedAfter = parse.GetValue(seedAfter) ?? TimeSpan.Zero,
                Verify = parse.GetValue(verify),
                Force = parse.GetValue(force),
                Exclusive = !parse.GetValue(noExclusive),
                DryRun = parse.GetValue(dryRun),
                ResumeFile = parse.GetValue(resumeFile),
                Previous = parse.GetValue(previous),
                Timeout = parse.GetValue(timeout),
                StallTimeout = parse.GetValue(stallTimeout),
                TrustFile = parse.GetValue(trust),
                ServerCertificateFile = parse.GetValue(serverCert),
                ServerFingerprint = parse.GetValue(serverFingerprint),
                TlsCertificate = parse.GetValue(tlsCert),
                TlsKey = parse.GetValue(tlsKey),
                Btih = parse.GetValue(btih),
                Json = parse.GetValue(json),
                ExitOnStdinEof = parse.GetValue(lifeline),
                ScratchSize = parse.GetValue(scratchSize),
                ScratchDirectory = parse.GetValue(scratchDir),
            };
            return RunAsync(context, request, cancellationToken);
        });
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, DeployRequest request, CancellationToken cancellationToken)
    {
        ManifestTrust? trust = request.TrustFile is { } trustFile ? Inputs.LoadTrust(trustFile) : null;
        if (ManifestDownload.IsUrl(request.Source, out Uri url))
        {
            (TorrentManifest downloaded, InfoHash? urlPin) = await DownloadAsync(context, url, request, trust, cancellationToken).ConfigureAwait(false);
            return await RunAsync(context, request with { Btih = urlPin }, downloaded, null, cancellationToken).ConfigureAwait(false);
        }

        if (!request.Source.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase))
        {
            TorrentManifest manifest = await Inputs.LoadTorrentAsync(request.Source, cancellationToken).ConfigureAwait(false);
            return await RunAsync(context, request, manifest, null, cancellationToken).ConfigureAwait(false);
        }

        // A magnet link: the manifest comes from peers once and is saved beside the resume file, so a run that is
        // interrupted resumes without asking the peers again.
        MagnetLink magnet = Inputs.ParseMagnet(request.Source);
        if (trust is not null)
        {
            throw new CommandException(ExitCodes.ManifestRefused, "--trust accepts only a signed manifest, and a magnet link carries no signature: deploy from the signed .torrent instead. Nothing was written.");
        }

        if (request.Btih is { } pinned && magnet.InfoHashV1 != pinned && magnet.InfoHashV2 != pinned)
        {
            throw new CommandException(ExitCodes.ManifestRefused, $"the magnet link is not the image --btih {pinned} pins. Nothing was written.");
        }
        string saved = ResumeFiles.MagnetManifestPath(magnet, request.Target, request.ResumeFile);
        if (!request.DryRun)
        {
            // The link's peers (x.pe) serve the image as well as its metadata, in this run and in one that resumes
            // from the saved manifest: a seed that cannot dial us back is reached only this way. Its trackers (tr)
            // travel in the manifest.
            IReadOnlyList<IPEndPoint> linked = await magnet.ResolvePeersAsync(cancellationToken).ConfigureAwait(false);
            request = request with { Peers = [.. request.Peers, .. linked.Except(request.Peers)] };
        }

        TorrentManifest? known = await LoadSavedManifestAsync(saved, magnet, cancellationToken).ConfigureAwait(false);
        if (known is not null)
        {
            return await RunAsync(context, request, known, null, cancellationToken).ConfigureAwait(false);
        }

        if (request.DryRun)
        {
            throw CommandException.Usage("--dry-run contacts no peer, so it needs the .torrent file rather than a magnet link (blocktorrent info FILE.torrent prints the link).");
        }

        using HttpClientHandler webSeeds = ServerTrustOf(request).CreateHandler();
        await using BlockTorrentClient client = SwarmSupport.StartClient(context, request.Listen, request.Lsd, request.CongestionControl, rates: request.Rates, webSeedHandler: webSeeds);
        TorrentManifest fetched = await FetchManifestAsync(context, client, magnet, request, saved, cancellationToken).ConfigureAwait(false);
        return await RunAsync(context, request, fetched, client, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Fetches the manifest at an http(s) URL, checking an https server against <c>--server-cert</c> and
    /// <c>--server-fingerprint</c> (the machine's authorities without them); returns it with the info-hash pinned by
    /// <c>--btih</c> or the URL's <c>#btih=</c>.
    /// </summary>
    private static async Task<(TorrentManifest Manifest, InfoHash? Pinned)> DownloadAsync(CliContext context, Uri url, DeployRequest request, ManifestTrust? trust, CancellationToken cancellationToken)
    {
        InfoHash? pinned = request.Btih;
        if (ManifestDownload.PinnedInfoHash(url) is { } fragment)
        {
            if (!(fragment.Length is 40 or 64 && fragment.All(char.IsAsciiHexDigit)))
            {
                throw CommandException.InvalidInput($"the URL's #btih={fragment} is not an info-hash: 40 (v1) or 64 (v2) hexadecimal digits.");
            }

            InfoHash hash = InfoHash.FromHex(fragment);
            if (pinned is { } given && given != hash)
            {
                throw CommandException.Usage($"--btih {given} and the URL's #btih={fragment} pin different images.");
            }

            pinned = hash;
        }

        ServerTrust serverTrust = ServerTrustOf(request);
        if (url.Scheme == Uri.UriSchemeHttp && trust is null && pinned is null)
        {
            context.Console.Error.WriteLine($"warning: {url.GetLeftPart(UriPartial.Path)} is plain http and nothing else checks the manifest: anyone on the way could hand this machine another image. Use https, --trust or --btih.");
        }

        using var download = new ManifestDownload(serverTrust, TimeSpan.FromSeconds(30));
        try
        {
            return (await download.GetAsync(url, cancellationToken).ConfigureAwait(false), pinned);
        }
        catch (ServerNotTrustedException e)
        {
            throw new CommandException(ExitCodes.ManifestRefused, $"{e.Message} Nothing was written.", e);
        }
        catch (HttpRequestException e) when (e.StatusCode is not null)
        {
            throw CommandException.InvalidInput($"cannot fetch the manifest: {e.Message}.", e);
        }
        catch (Exception e) when (e is HttpRequestException or TimeoutException)
        {
            throw new CommandException(ExitCodes.Incomplete, $"cannot fetch the manifest from {url.GetLeftPart(UriPartial.Path)}: {e.Message} Run the same command again to retry.", e);
        }
        catch (InvalidTorrentException e)
        {
            throw CommandException.InvalidInput(e.Message, e);
        }
    }

    /// <summary>The https servers trusted for the manifest and for web seeds alike: <c>--server-cert</c> and <c>--server-fingerprint</c>, or the machine's authorities.</summary>
    private static ServerTrust ServerTrustOf(DeployRequest request)
    {
        try
        {
            return ServerTrust.Create(request.ServerCertificateFile, request.ServerFingerprint);
        }
        catch (ArgumentException e)
        {
            throw CommandException.InvalidInput(e.Message.Replace($" (Parameter '{e.ParamName}')", string.Empty, StringComparison.Ordinal), e);
        }
    }

    /// <summary>Loads the manifest a previous run fetched for this magnet link, if it is there and is the link's.</summary>
    private static async Task<TorrentManifest?> LoadSavedManifestAsync(string path, MagnetLink magnet, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            TorrentManifest manifest = await TorrentManifest.LoadAsync(path, cancellationToken).ConfigureAwait(false);
            bool same = (magnet.InfoHashV1 is { } v1 && manifest.InfoHashV1 == v1) || (magnet.InfoHashV2 is { } v2 && manifest.InfoHashV2 == v2);
            return same ? manifest : null;
        }
        catch (InvalidTorrentException)
        {
            // A damaged copy (the disk filled up while it was written): fetch it again.
            return null;
        }
    }

    private static async Task<TorrentManifest> FetchManifestAsync(CliContext context, BlockTorrentClient client, MagnetLink magnet, DeployRequest request, string saved, CancellationToken cancellationToken)
    {
        var options = new DeployOptions { UseLocalPeerDiscovery = request.Lsd };
        AddPeersAndTrackers(options.Peers, options.Trackers, request);
        if (request.Timeout is TimeSpan limit && limit != Timeout.InfiniteTimeSpan)
        {
            options.MetadataTimeout = limit;
        }

        IProgressView view = ProgressViews.Create(context.Console, "deploy", request.Json);
        view.Event("metadata", $"fetching the metadata of {magnet.DisplayName ?? "the magnet link"} from peers; listening on {client.LocalEndPoint}");
        TorrentManifest manifest;
        try
        {
            manifest = await client.FetchManifestAsync(magnet, options, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new CommandException(ExitCodes.Incomplete, $"{Uncapitalize(e.Message)} Run the same command again to retry.", e);
        }
        catch (InvalidTorrentException e)
        {
            throw CommandException.InvalidInput($"the magnet link's metadata is not an image this tool can deploy: {e.Message}", e);
        }

        string? folder = Path.GetDirectoryName(saved);
        if (folder is not null)
        {
            Directory.CreateDirectory(folder);
        }

        await manifest.SaveAsync(saved, cancellationToken).ConfigureAwait(false);
        view.Event("metadata", $"received the manifest of {manifest.Name} ({ByteSize.Format(manifest.Length)}, {manifest.PieceCount} pieces); saved as {saved}");
        return manifest;
    }

    /// <summary>Refuses a manifest that is not the pinned image or not signed by a trusted key (exit code 8).</summary>
    private static void CheckManifest(CliContext context, TorrentManifest manifest, InfoHash? pinned, ManifestTrust? trust, bool json)
    {
        if (pinned is { } hash && manifest.InfoHashV1 != hash && manifest.InfoHashV2 != hash)
        {
            throw new CommandException(ExitCodes.ManifestRefused, $"the manifest of {manifest.Name} has info-hash {manifest.InfoHashV1?.ToHex() ?? manifest.InfoHashV2?.ToHex()}, not the pinned {hash}: it is not the expected image. Nothing was written.");
        }

        if (trust is not null)
        {
            ManifestSignature signer = trust.Verify(manifest);
            if (!json)
            {
                context.Console.Out.WriteLine($"manifest signed by trusted key {signer.Fingerprint}");
            }
        }
    }

    private static string Uncapitalize(string text) => text.Length == 0 ? text : char.ToLowerInvariant(text[0]) + text[1..];

    private static void AddPeersAndTrackers(IList<IPEndPoint> peers, IList<Uri> trackers, DeployRequest request)
    {
        foreach (IPEndPoint peer in request.Peers)
        {
            peers.Add(peer);
        }

        foreach (string tracker in request.Trackers)
        {
            trackers.Add(new Uri(tracker));
        }
    }

    /// <summary>The image an existing target holds, as a hint for its check: <c>--previous</c>, else the manifest remembered for it.</summary>
    private static async Task<TorrentManifest?> PreviousOfAsync(CliContext context, DeployRequest request, CancellationToken cancellationToken)
    {
        if (request.Previous is { } path)
        {
            return await Inputs.LoadTorrentAsync(path, cancellationToken).ConfigureAwait(false);
        }

        (TorrentManifest? remembered, string at, string? problem) = await PreviousManifests.TryLoadAsync(request.Target, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            context.Console.Error.WriteLine($"warning: ignoring the manifest remembered for {request.Target} in {at}: {problem}");
        }

        return remembered;
    }

    /// <summary>Deploys <paramref name="manifest"/>; <paramref name="client"/> is the one that fetched it from a magnet link, or <see langword="null"/> to start one.</summary>
    private static async Task<int> RunAsync(CliContext context, DeployRequest request, TorrentManifest manifest, BlockTorrentClient? client, CancellationToken cancellationToken)
    {
        ILogger logger = context.LoggerFactory.CreateLogger("BlockTorrent.Cli.Target");

        // The manifest is checked before the target is opened (opening an image file may create it).
        ManifestTrust? trust = request.TrustFile is { } trustFile ? Inputs.LoadTrust(trustFile) : null;
        CheckManifest(context, manifest, request.Btih, trust, request.Json);
        using X509Certificate2? peerCertificate = SwarmSupport.LoadPeerCertificate(manifest, request.TlsCertificate, request.TlsKey);
        if (request.DryRun)
        {
            return await DryRunAsync(context, manifest, request, logger, cancellationToken).ConfigureAwait(false);
        }

        bool existed = File.Exists(request.Target) || DeviceOpener.IsDevicePath(request.Target);
        string resumePath = request.ResumeFile ?? ResumeFiles.DefaultPath(manifest, request.Target);
        TorrentManifest? previous = existed ? await PreviousOfAsync(context, request, cancellationToken).ConfigureAwait(false) : null;
        IBlockDevice device = await DeviceOpener.OpenTargetAsync(request.Target, CompressedManifests.ImageLength(manifest), request.Force, request.Exclusive, logger, cancellationToken).ConfigureAwait(false);
        await using var deviceScope = device.ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (request.ExitOnStdinEof)
        {
            StopOnStdinEof(stop);
        }

        // Web seeds (a depot's https among them) are trusted as the server the manifest comes from.
        using HttpClientHandler? webSeeds = client is null ? ServerTrustOf(request).CreateHandler() : null;
        await using BlockTorrentClient? started = client is null ? SwarmSupport.StartClient(context, request.Listen, request.Lsd, request.CongestionControl, peerCertificate, request.Rates, webSeeds) : null;
        client ??= started!;
        var options = new DeployOptions
        {
            UseLocalPeerDiscovery = request.Lsd,
            VerifyAfterWrite = request.Verify,
            ResumeFilePath = resumePath,
            CheckExistingData = existed,
            PreviousManifest = previous,
            DeviceIsZeroed = !existed,
            Trust = trust,
            ExpectedInfoHash = request.Btih,
            ScratchDirectory = request.ScratchDirectory,
        };
        if (request.ScratchSize is long scratch)
        {
            options.ScratchSize = scratch;
        }

        if (request.StallTimeout is TimeSpan stall)
        {
            options.StallTimeout = stall;
        }

        AddPeersAndTrackers(options.Peers, options.Trackers, request);
        foreach (string webSeed in request.WebSeeds)
        {
            options.WebSeeds.Add(new Uri(webSeed));
        }

        DeploymentProgress? latest = null;
        var down = new RateMeter();
        var up = new RateMeter();
        TransferSnapshot Sample() => Snapshot(manifest, Volatile.Read(ref latest), down, up);
        IProgressView view = ProgressViews.Create(context.Console, "deploy", request.Json);
        DeploymentResult result;
        using (var timeout = new CancellationTokenSource())
        {
            if (request.Timeout is TimeSpan limit && limit != Timeout.InfiniteTimeSpan)
            {
                timeout.CancelAfter(limit);
            }

            using var deployStop = CancellationTokenSource.CreateLinkedTokenSource(stop.Token, timeout.Token);
            await using var pump = new ProgressPump(view, Sample);
            pump.Event("start", $"deploying {manifest.Name} ({ByteSize.Format(manifest.Length)}, {manifest.PieceCount} pieces) to {device.Name}; listening on {client.LocalEndPoint}");
            if (previous is not null)
            {
                pump.Event("previous", $"{device.Name} should hold {previous.Name}: its manifest says where each piece may already sit (a hint; every piece is verified against the new manifest)");
            }

            using var watching = CancellationTokenSource.CreateLinkedTokenSource(deployStop.Token);
            Task watcher = SwarmSupport.WatchAsync(client, pump, request.Json || context.Verbose, watching.Token);
            try
            {
                result = await client.DeployAsync(manifest, device, options, new SynchronousProgress<DeploymentProgress>(p => Volatile.Write(ref latest, p)), deployStop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stop.IsCancellationRequested)
            {
                DeploymentProgress? last = Volatile.Read(ref latest);
                throw new CommandException(
                    ExitCodes.Incomplete,
                    $"gave up after {Duration.Format(request.Timeout!.Value)}: {last?.PiecesOnDevice ?? 0} of {manifest.PieceCount} pieces are on the target; run the same command again to resume.");
            }
            catch (PiecesUnavailableException e)
            {
                DeploymentProgress? last = Volatile.Read(ref latest);
                throw new CommandException(
                    ExitCodes.PiecesUnavailable,
                    $"{Uncapitalize(e.Message)}. {last?.PiecesOnDevice ?? 0} of {manifest.PieceCount} pieces are on the target and stay verified; fix or replace the source, then run the same command again to resume.",
                    e);
            }
            finally
            {
                await watching.CancelAsync().ConfigureAwait(false);
                await watcher.ConfigureAwait(false);
            }

            Volatile.Write(ref latest, new DeploymentProgress
            {
                PieceCount = result.PieceCount,
                PiecesOnDevice = result.PieceCount,
                BytesDownloaded = result.BytesDownloaded,
                BytesUploaded = result.BytesUploaded,
                ConnectedPeers = latest?.ConnectedPeers ?? 0,
                Elapsed = result.Duration,
            });
            await pump.CompleteAsync(Summary(manifest, device.Name, result, request.Verify)).ConfigureAwait(false);
        }

        if (request.Json)
        {
            WriteResult(context.Console.Out, manifest, device.Name, result);
        }

        // The target is complete and verified: a resume file would only go stale if the target changes later, and a
        // manifest saved for a magnet link has served its purpose. What the target now holds is the next re-image's hint.
        File.Delete(resumePath);
        await PreviousManifests.RememberAsync(manifest, request.Target, cancellationToken).ConfigureAwait(false);
        if (request.Source.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase) && MagnetLink.TryParse(request.Source, out MagnetLink? magnet))
        {
            File.Delete(ResumeFiles.MagnetManifestPath(magnet, request.Target, request.ResumeFile));
        }
        if (request.SeedAfter != TimeSpan.Zero && StreamImage.FromManifest(manifest) is not null)
        {
            // The target holds the raw image, and a stream's pieces cannot be made again from it.
            context.Console.Error.WriteLine($"note: not seeding after the deployment: {manifest.Name} is a compressed stream, on the target raw; the target served its pieces while it deployed.");
        }
        else if (request.SeedAfter != TimeSpan.Zero && CompressedImage.FromManifest(manifest) is { } seekable)
        {
            // A seekable image's pieces are re-encoded from the raw target, and served only when they hash equal.
            IBlockDevice file = seekable.AsCompressedFile(device);
            await using (file.ConfigureAwait(false))
            {
                await SeedAfterAsync(context, client, manifest, file, request, stop.Token).ConfigureAwait(false);
            }
        }
        else if (request.SeedAfter != TimeSpan.Zero)
        {
            await SeedAfterAsync(context, client, manifest, device, request, stop.Token).ConfigureAwait(false);
        }

        return ExitCodes.Success;
    }

    /// <summary>
    /// Seeds the finished target to the same peers for the requested time. A stop during this phase still exits 0:
    /// the target was complete before it began.
    /// </summary>
    private static async Task SeedAfterAsync(CliContext context, BlockTorrentClient client, TorrentManifest manifest, IBlockDevice device, DeployRequest request, CancellationToken stop)
    {
        var options = new SeedOptions { UseLocalPeerDiscovery = request.Lsd };
        AddPeersAndTrackers(options.Peers, options.Trackers, request);

        using var seeding = CancellationTokenSource.CreateLinkedTokenSource(stop);
        if (request.SeedAfter != Timeout.InfiniteTimeSpan)
        {
            seeding.CancelAfter(request.SeedAfter);
        }

        using var counters = new TrafficCounters();
        IProgressView view = ProgressViews.Create(context.Console, "seed", request.Json);
        var up = new RateMeter();
        TransferSnapshot Sample() => SeedCommand.Snapshot(manifest, counters, up);
        await using var pump = new ProgressPump(view, Sample);
        pump.Event("seeding", $"seeding {manifest.Name} from {device.Name} on {client.LocalEndPoint} for {Duration.Format(request.SeedAfter)}");
        try
        {
            await client.SeedAsync(manifest, device, options, seeding.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (seeding.IsCancellationRequested)
        {
            // The seeding time is over, or the user stopped it: either way the target is complete.
        }

        await pump.CompleteAsync($"stopped seeding; sent {ByteSize.Format(counters.Uploaded)} to peers").ConfigureAwait(false);
    }

    private static async Task<int> DryRunAsync(CliContext context, TorrentManifest manifest, DeployRequest request, ILogger logger, CancellationToken cancellationToken)
    {
        TextWriter output = context.Console.Out;
        bool isDevice = DeviceOpener.IsDevicePath(request.Target);
        int present = 0;
        if (isDevice || File.Exists(request.Target))
        {
            // A compressed image's pieces are not on the device as such; only a raw image's are checked here.
            await using IBlockDevice device = await DeviceOpener.OpenForDryRunAsync(request.Target, CompressedManifests.ImageLength(manifest), request.Force, request.Exclusive, logger, cancellationToken).ConfigureAwait(false);
            if (device.Length >= manifest.Length && CompressedImage.FromManifest(manifest) is null && StreamImage.FromManifest(manifest) is null)
            {
                PieceCheckResult check = await PieceChecker.CheckAsync(manifest, device, cancellationToken: cancellationToken).ConfigureAwait(false);
                present = check.ValidCount;
            }

            output.WriteLine($"target:            {device.Name} ({ByteSize.Format(device.Length)}{(isDevice ? ", device passes the safety checks" : ", image file")})");
        }
        else
        {
            output.WriteLine($"target:            {request.Target} (new image file of {ByteSize.Format(CompressedManifests.ImageLength(manifest))})");
        }

        int zero = manifest.ZeroPieceCount;
        int duplicates = manifest.DuplicatePieceCount;
        int fetch = 0;
        long fetchBytes = 0;
        for (int i = 0; i < manifest.PieceCount; i++)
        {
            if (!manifest.IsZeroPiece(i) && manifest.GetCanonicalPiece(i) == i)
            {
                fetch++;
                fetchBytes += manifest.GetPieceSize(i);
            }
        }

        output.WriteLine($"image:             {manifest.Name} ({ByteSize.Format(manifest.Length)}, {manifest.PieceCount} pieces of {ByteSize.Format(manifest.PieceLength)})");
        output.WriteLine($"already correct:   {present.ToString(CultureInfo.InvariantCulture)} pieces (kept)");
        output.WriteLine($"zero pieces:       {zero.ToString(CultureInfo.InvariantCulture)} (never sent)");
        output.WriteLine($"duplicate pieces:  {duplicates.ToString(CultureInfo.InvariantCulture)} (copied locally)");
        output.WriteLine($"to fetch at most:  {fetch.ToString(CultureInfo.InvariantCulture)} pieces ({ByteSize.Format(fetchBytes)}), fewer where the target already holds them");
        output.WriteLine("dry run: nothing was written and no peer was contacted.");
        return ExitCodes.Success;
    }

    private static TransferSnapshot Snapshot(TorrentManifest manifest, DeploymentProgress? p, RateMeter down, RateMeter up)
    {
        if (p is null)
        {
            return new TransferSnapshot { State = "checking", TotalBytes = manifest.Length, CompletedBytes = 0, TotalPieces = manifest.PieceCount };
        }

        // The progress reports bytes, not pieces, from peers; every downloaded piece is a whole piece, so the count
        // is the bytes over the piece length (the short last piece can make it one less than exact).
        int fromPeers = (int)Math.Min(p.PiecesOnDevice, p.BytesDownloaded / manifest.PieceLength);
        long completed = Math.Min(manifest.Length, (long)p.PiecesOnDevice * manifest.PieceLength);
        return new TransferSnapshot
        {
            State = p.PiecesOnDevice >= p.PieceCount ? "complete" : "downloading",
            TotalBytes = manifest.Length,
            CompletedBytes = completed,
            TotalPieces = manifest.PieceCount,
            PiecesFromPeers = fromPeers,
            PiecesLocal = p.PiecesOnDevice - fromPeers,
            Downloaded = p.BytesDownloaded,
            Uploaded = p.BytesUploaded,
            DownloadRate = down.Sample(p.BytesDownloaded),
            UploadRate = up.Sample(p.BytesUploaded),
            Peers = p.ConnectedPeers,
        };
    }

    private static string Summary(TorrentManifest manifest, string target, DeploymentResult r, bool readBack)
    {
        double seconds = Math.Max(r.Duration.TotalSeconds, 0.001);
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"deployed {manifest.Name} to {target} in {Duration.Format(r.Duration)} ({ByteSize.Format(manifest.Length / seconds)}/s); ");
        text.Append(CultureInfo.InvariantCulture, $"each of the {r.PieceCount} pieces was checked during this run: ");
        text.Append(CultureInfo.InvariantCulture, $"{r.PiecesDownloaded} fetched from peers, verified and written ({ByteSize.Format(r.BytesDownloaded)}), ");
        text.Append(CultureInfo.InvariantCulture, $"{r.ZeroPieces} zero and {r.DuplicatePieces} duplicate pieces written locally or found in place ({ByteSize.Format(r.BytesSatisfiedLocally)}), ");
        text.Append(CultureInfo.InvariantCulture, $"{r.PiecesAlreadyPresent} read back from the target and hashed equal");
        if (r.ResumedPieces > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" ({r.ResumedPieces - r.ResumedPiecesRejected} of the {r.ResumedPieces} the resume file named; {r.ResumedPiecesRejected} it named no longer matched and were written again)");
        }

        if (readBack)
        {
            text.Append("; then every piece was read back and verified after the final flush");
        }

        text.Append(CultureInfo.InvariantCulture, $"; sent {ByteSize.Format(r.BytesUploaded)} to peers");
        return text.ToString();
    }

    private static void WriteResult(TextWriter output, TorrentManifest manifest, string target, DeploymentResult r) =>
        JsonProgressView.WriteLine(output, "result", "deploy", DateTimeOffset.UtcNow, w =>
        {
            w.WriteString("name", manifest.Name);
            w.WriteString("target", target);
            w.WriteNumber("pieceCount", r.PieceCount);
            w.WriteNumber("piecesDownloaded", r.PiecesDownloaded);
            w.WriteNumber("piecesAlreadyPresent", r.PiecesAlreadyPresent);
            w.WriteNumber("piecesCopiedLocally", r.PiecesCopiedLocally);
            w.WriteNumber("resumedPieces", r.ResumedPieces);
            w.WriteNumber("resumedPiecesRejected", r.ResumedPiecesRejected);
            w.WriteNumber("zeroPieces", r.ZeroPieces);
            w.WriteNumber("duplicatePieces", r.DuplicatePieces);
            w.WriteNumber("bytesDownloaded", r.BytesDownloaded);
            w.WriteNumber("bytesSatisfiedLocally", r.BytesSatisfiedLocally);
            w.WriteNumber("bytesUploaded", r.BytesUploaded);
            w.WriteNumber("hashFailures", r.HashFailures);
            w.WriteNumber("peersSeen", r.PeersSeen);
            w.WriteNumber("scratchPeakBytes", r.ScratchPeakBytes);
            w.WriteNumber("seconds", Math.Round(r.Duration.TotalSeconds, 3));
            WriteSeconds(w, "firstByteSeconds", r.TimeToFirstByte);
            WriteSeconds(w, "firstPieceSeconds", r.TimeToFirstPiece);
        });

    /// <summary>Writes a time in seconds (millisecond resolution), or null for a moment that never came.</summary>
    private static void WriteSeconds(System.Text.Json.Utf8JsonWriter w, string name, TimeSpan? time)
    {
        if (time is TimeSpan t)
        {
            w.WriteNumber(name, Math.Round(t.TotalSeconds, 3));
        }
        else
        {
            w.WriteNull(name);
        }
    }

    /// <summary>Cancels <paramref name="stop"/> when standard input reaches its end (the parent closed the pipe, or died).</summary>
    private static void StopOnStdinEof(CancellationTokenSource stop)
    {
        var thread = new Thread(() =>
        {
            using Stream input = System.Console.OpenStandardInput();
            byte[] buffer = new byte[256];
            while (input.Read(buffer, 0, buffer.Length) > 0)
            {
                // Anything written is ignored: only the end of the stream matters.
            }

            stop.Cancel();
        })
        {
            IsBackground = true,
            Name = "stdin lifeline",
        };
        thread.Start();
    }
}

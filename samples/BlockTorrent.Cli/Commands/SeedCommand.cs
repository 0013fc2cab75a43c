using System.CommandLine;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Cli.Parsing;
using BlockTorrent.Cli.Progress;
using BlockTorrent.Devices;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;
using Microsoft.Extensions.Logging;

namespace BlockTorrent.Cli.Commands;

/// <summary><c>blocktorrent seed FILE.torrent --source IMAGE_OR_DEVICE</c>: serves the image until stopped.</summary>
internal static class SeedCommand
{
    public static Command Build(CliContext context)
    {
        var torrent = new Argument<string>("FILE.torrent") { Description = "The image's manifest." };
        var source = new Option<string>("--source") { Description = "The image file or device that holds the image.", HelpName = "IMAGE_OR_DEVICE", Required = true };
        Option<IPEndPoint?> listen = CliOptions.EndPoint("--listen", $"Where to accept peer connections (default: 0.0.0.0:{SwarmSupport.DefaultPort}).");
        Option<IPEndPoint?> embeddedTracker = CliOptions.EndPoint("--embedded-tracker", "Run a tracker in this process on ADDR:PORT and announce the image to it; targets use it with --tracker http://ADDR:PORT/announce.");
        var lsd = new Option<bool>("--lsd") { Description = "Announce the image on the local network with Local Service Discovery (BEP 14)." };
        Option<string?> congestionControl = SwarmSupport.CongestionControlOption();
        (Option<long?> maxUploadRate, Option<long?> maxDownloadRate) = SwarmSupport.RateOptions();
        Option<IPEndPoint[]> peers = CliOptions.EndPointList("--peer", "A peer to connect to; repeat for several.");
        var trustSource = new Option<bool>("--trust-source") { Description = "Serve pieces without checking them against the manifest. By default each piece is checked the first time it is read, and one that differs (the image changed after its manifest was made) is reported and never served." };
        var verifyReads = new Option<bool>("--verify-reads") { Description = "Check each piece the first time it is read (the default now).", Hidden = true };
        var superSeed = new Option<bool>("--super-seed") { Description = "Always super-seed (BEP 16): offer each peer a few rare pieces at a time, so this seed sends each piece about once and the peers pass them on. By default the seed does this for every peer that passes its pieces on, and serves a peer that does not (a lone target, targets that cannot reach one another) as a plain seed." };
        var noSuperSeed = new Option<bool>("--no-super-seed") { Description = "Never super-seed: announce every piece to every peer." };
        (Option<string?> tlsCert, Option<string?> tlsKey) = SwarmSupport.TlsCertificateOptions();
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON events instead of text." };
        var command = new Command("seed", "Seed an image from a file or device until stopped (Ctrl-C).")
        {
            torrent, source, listen, embeddedTracker, lsd, congestionControl, peers, trustSource, verifyReads, superSeed, noSuperSeed, tlsCert, tlsKey, json, maxUploadRate, maxDownloadRate,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(superSeed) && result.GetValue(noSuperSeed))
            {
                result.AddError("--super-seed and --no-super-seed cannot be used together.");
            }
        });
        command.SetAction((parse, cancellationToken) => RunAsync(
            context,
            parse.GetRequiredValue(torrent),
            parse.GetRequiredValue(source),
            parse.GetValue(listen),
            parse.GetValue(embeddedTracker),
            parse.GetValue(lsd),
            parse.GetValue(congestionControl),
            new SwarmSupport.Rates(parse.GetValue(maxUploadRate) ?? 0, parse.GetValue(maxDownloadRate) ?? 0),
            parse.GetValue(peers) ?? [],
            new SeedOptions { VerifyOnFirstRead = !parse.GetValue(trustSource) || parse.GetValue(verifyReads), SuperSeeding = parse.GetValue(superSeed) ? SuperSeedMode.Always : parse.GetValue(noSuperSeed) ? SuperSeedMode.Never : SuperSeedMode.Adaptive },
            (parse.GetValue(tlsCert), parse.GetValue(tlsKey)),
            parse.GetValue(json),
            cancellationToken));
        return command;
    }

    /// <summary>What a seed shows: bytes sent, upload rate and peers (the image itself is complete).</summary>
    public static TransferSnapshot Snapshot(TorrentManifest manifest, TrafficCounters counters, RateMeter up)
    {
        long uploaded = counters.Uploaded;
        return new TransferSnapshot
        {
            State = "seeding",
            TotalBytes = manifest.Length,
            CompletedBytes = manifest.Length,
            TotalPieces = manifest.PieceCount,
            Uploaded = uploaded,
            UploadRate = up.Sample(uploaded),
            Peers = counters.Peers,
        };
    }

    private static async Task<int> RunAsync(CliContext context, string torrentPath, string sourcePath, IPEndPoint? listen, IPEndPoint? trackerEndPoint, bool lsd, string? congestionControl, SwarmSupport.Rates rates, IReadOnlyList<IPEndPoint> peers, SeedOptions options, (string? Certificate, string? Key) tls, bool json, CancellationToken cancellationToken)
    {
        TorrentManifest manifest = await Inputs.LoadTorrentAsync(torrentPath, cancellationToken).ConfigureAwait(false);
        using X509Certificate2? peerCertificate = SwarmSupport.LoadPeerCertificate(manifest, tls.Certificate, tls.Key);
        ILogger logger = context.LoggerFactory.CreateLogger("BlockTorrent.Cli.Source");
        await using IBlockDevice device = await DeviceOpener.OpenReadOnlyAsync(sourcePath, logger, cancellationToken).ConfigureAwait(false);
        DeviceOpener.RequireLength(device, manifest.Length, "source");
        options.UseLocalPeerDiscovery = lsd;
        foreach (IPEndPoint peer in peers)
        {
            options.Peers.Add(peer);
        }

        await using EmbeddedTracker? tracker = trackerEndPoint is null ? null : await SwarmSupport.StartTrackerAsync(context, trackerEndPoint, manifest, cancellationToken).ConfigureAwait(false);
        if (tracker is not null)
        {
            options.Trackers.Add(tracker.AnnounceUri);
        }

        await using BlockTorrentClient client = SwarmSupport.StartClient(context, listen, lsd, congestionControl, peerCertificate, rates);
        using var counters = new TrafficCounters();
        var up = new RateMeter();
        IProgressView view = ProgressViews.Create(context.Console, "seed", json);
        await using var pump = new ProgressPump(view, () => Snapshot(manifest, counters, up));
        pump.Event("seeding", $"seeding {manifest.Name} ({ByteSize.Format(manifest.Length)}) from {device.Name} on {client.LocalEndPoint}; Ctrl-C stops");
        if (tracker is not null)
        {
            pump.Event("tracker", $"tracker running at {tracker.AnnounceUri}; deploy with --tracker {tracker.AnnounceUri}");
        }
        using var watching = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task watcher = SwarmSupport.WatchAsync(client, pump, json || context.Verbose, watching.Token, counters);
        try
        {
            await client.SeedAsync(manifest, device, options, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Seeding runs until stopped; being stopped is how it ends well.
        }
        finally
        {
            await watching.CancelAsync().ConfigureAwait(false);
            await watcher.ConfigureAwait(false);
        }

        await pump.CompleteAsync($"stopped seeding; sent {ByteSize.Format(counters.Uploaded)} to peers").ConfigureAwait(false);
        return ExitCodes.Success;
    }
}

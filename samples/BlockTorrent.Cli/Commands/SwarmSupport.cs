using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Cli.Progress;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;
using Microsoft.Extensions.Logging;

namespace BlockTorrent.Cli.Commands;

/// <summary>What <c>seed</c>, <c>deploy</c> and the demo share: starting a client and showing what its swarms do.</summary>
internal static class SwarmSupport
{
    /// <summary>The port BitTorrent clients have listened on by tradition; <c>--listen</c> changes it.</summary>
    public const int DefaultPort = 6881;

    /// <summary>
    /// Starts a client listening on <paramref name="listen"/>, with one clear message when the port is taken or the
    /// congestion control algorithm (<c>--congestion-control</c>) is malformed or refused by the kernel.
    /// </summary>
    public static BlockTorrentClient StartClient(CliContext context, IPEndPoint? listen, bool lsd, string? congestionControl = null, X509Certificate2? peerCertificate = null, Rates rates = default, HttpMessageHandler? webSeedHandler = null)
    {
        IPEndPoint endPoint = listen ?? new IPEndPoint(IPAddress.Any, DefaultPort);
        var options = new BlockTorrentClientOptions
        {
            ListenEndPoint = endPoint,
            EnableLocalPeerDiscovery = lsd,
            TcpCongestionControl = congestionControl,
            PeerCertificate = peerCertificate,
            MaxUploadRate = rates.Upload,
            MaxDownloadRate = rates.Download,
            WebSeedHandler = webSeedHandler,
        };
        try
        {
            return new BlockTorrentClient(options, context.LoggerFactory);
        }
        catch (SocketException e)
        {
            throw new CommandException(ExitCodes.Failure, $"cannot listen on {endPoint}: {e.Message}; choose another address or port with --listen.", e);
        }
        catch (ArgumentException e) when (e.ParamName == nameof(BlockTorrentClientOptions.TcpCongestionControl))
        {
            throw CommandException.Usage($"--congestion-control: {e.Message}");
        }
        catch (InvalidOperationException e) when (congestionControl is not null)
        {
            throw CommandException.Usage($"--congestion-control: {e.Message}");
        }
    }

    /// <summary>
    /// The <c>--max-upload-rate</c> and <c>--max-download-rate</c> options of <c>seed</c> and <c>deploy</c>: bytes per
    /// second over all the client's connections, with the size units of <see cref="Parsing.ByteSize"/>.
    /// </summary>
    public static (Option<long?> Upload, Option<long?> Download) RateOptions()
    {
        const string Units = "in bytes per second, over all connections: 500K is 500 KiB/s, 10M is 10 MiB/s (K, M, G are powers of 1024; KB, MB, GB powers of 1000). Default: no limit.";
        static string? Positive(long bytes) => bytes > 0 ? null : "a rate must be more than 0 bytes per second; leave the option out for no limit.";
        Option<long?> upload = Parsing.CliOptions.Size("--max-upload-rate", "Upload at most this much, " + Units, Positive);
        Option<long?> download = Parsing.CliOptions.Size("--max-download-rate", "Download at most this much (blocks are requested no faster), " + Units, Positive);
        upload.HelpName = download.HelpName = "BYTES_PER_S";
        return (upload, download);
    }

    /// <summary>The client's bandwidth caps in bytes per second, 0 for none.</summary>
    /// <param name="Upload">The upload cap.</param>
    /// <param name="Download">The download cap.</param>
    public readonly record struct Rates(long Upload, long Download);

    /// <summary>The <c>--tls-cert</c> and <c>--tls-key</c> options of <c>seed</c> and <c>deploy</c>: our certificate in TLS swarms.</summary>
    public static (Option<string?> Certificate, Option<string?> Key) TlsCertificateOptions() => (
        new Option<string?>("--tls-cert") { Description = "For a TLS torrent (its manifest has ssl-cert, libtorrent's SSL torrents): our peer certificate, signed by the swarm's authority (see 'tls issue').", HelpName = "PEER.pem" },
        new Option<string?>("--tls-key") { Description = "The private key of --tls-cert (default: beside it as NAME.key.pem).", HelpName = "PEER.key.pem" });

    /// <summary>
    /// Loads the peer certificate of <c>--tls-cert</c> and checks it against the manifest before anything is opened:
    /// a TLS torrent without one is a usage error, one its authority would refuse is invalid input.
    /// </summary>
    /// <returns>The certificate, or <see langword="null"/> when none was given.</returns>
    public static X509Certificate2? LoadPeerCertificate(TorrentManifest manifest, string? certificatePath, string? keyPath)
    {
        X509Certificate2? certificate = certificatePath is null ? null : Inputs.LoadCertificate(certificatePath, keyPath ?? TlsCommand.KeyPath(certificatePath), "--tls-cert");
        if (manifest.SwarmAuthority is not { } authority)
        {
            return certificate;
        }

        if (certificate is null)
        {
            throw CommandException.Usage($"{manifest.Name} is a TLS torrent (its swarm authority is '{authority.Subject}'): give a peer certificate it signed with --tls-cert (see 'tls issue').");
        }

        if (!SwarmCertificates.Admits(authority, manifest.Name, certificate, null, out string? reason))
        {
            certificate.Dispose();
            throw CommandException.InvalidInput($"--tls-cert: the swarm of {manifest.Name} would refuse it: {reason}.");
        }

        return certificate;
    }

    /// <summary>The <c>--congestion-control</c> option of <c>seed</c> and <c>deploy</c>: a malformed name is a usage error before anything runs.</summary>
    public static Option<string?> CongestionControlOption()
    {
        var option = new Option<string?>("--congestion-control")
        {
            Description = "TCP congestion control for peer connections, by its Linux name (cubic, reno, bbr, ...). Default: the system's.",
            HelpName = "ALGORITHM",
        };
        option.Validators.Add(r =>
        {
            try
            {
                new BlockTorrentClientOptions { TcpCongestionControl = r.GetValueOrDefault<string?>() }.Validate();
            }
            catch (ArgumentException e)
            {
                r.AddError($"--congestion-control: {e.Message}");
            }
        });
        return option;
    }

    /// <summary>
    /// Starts the library's embedded HTTP tracker on <paramref name="endPoint"/>, with one clear message when the
    /// address cannot be bound. Seeds announce to it, and targets are given its <see cref="EmbeddedTracker.AnnounceUri"/>.
    /// It tracks <paramref name="manifest"/>'s torrent only, so nobody else's swarm can use it.
    /// </summary>
    public static async Task<EmbeddedTracker> StartTrackerAsync(CliContext context, IPEndPoint endPoint, TorrentManifest manifest, CancellationToken cancellationToken)
    {
        var options = new EmbeddedTrackerOptions { ListenEndPoint = endPoint, OnlyAllowedTorrents = true };
        foreach (InfoHash? infoHash in (InfoHash?[])[manifest.InfoHashV1, manifest.InfoHashV2])
        {
            if (infoHash is { } hash)
            {
                options.AllowedInfoHashes.Add(hash);
            }
        }

        var tracker = new EmbeddedTracker(options, context.LoggerFactory.CreateLogger<EmbeddedTracker>());
        try
        {
            await tracker.StartAsync(cancellationToken).ConfigureAwait(false);
            return tracker;
        }
        catch (SocketException e)
        {
            await tracker.DisposeAsync().ConfigureAwait(false);
            throw new CommandException(ExitCodes.Failure, $"cannot run the tracker on {endPoint}: {e.Message}; choose another address or port with --embedded-tracker.", e);
        }
    }

    /// <summary>
    /// Forwards a client's swarm events to the view until cancelled: bans and failed pieces always, peer arrivals
    /// and departures when <paramref name="showPeers"/> (JSON output or --verbose), since a big swarm would flood a terminal.
    /// </summary>
    public static async Task WatchAsync(BlockTorrentClient client, ProgressPump pump, bool showPeers, CancellationToken cancellationToken, TrafficCounters? counters = null)
    {
        try
        {
            await foreach (SwarmEvent e in client.WatchEventsAsync(cancellationToken).ConfigureAwait(false))
            {
                counters?.AddPeers(e.Kind switch { SwarmEventKind.PeerConnected => 1, SwarmEventKind.PeerDisconnected => -1, _ => 0 });
                string? text = e.Kind switch
                {
                    SwarmEventKind.PeerBanned => $"banned peer {e.Peer}: {e.Detail ?? "it sent pieces that failed their hash check"}",
                    SwarmEventKind.PieceFailed => $"piece {e.Piece} from {e.Peer?.ToString() ?? "a peer"} failed its hash check; fetching it again",
                    SwarmEventKind.MetadataReceived => "received the torrent's metadata from peers",
                    SwarmEventKind.SourcePieceInvalid => $"THE SOURCE NO LONGER MATCHES ITS MANIFEST: piece {e.Piece} read from {e.Detail} differs from the manifest (the image changed after the manifest was made); it is not served. Make the manifest again from the image, or restore the image",
                    SwarmEventKind.PiecesUnavailable => e.Detail,
                    SwarmEventKind.PeerConnected when showPeers => $"peer {e.Peer} connected",
                    SwarmEventKind.PeerDisconnected when showPeers => $"peer {e.Peer} disconnected{(e.Detail is null ? string.Empty : ": " + e.Detail)}",
                    _ => null,
                };
                if (text is not null)
                {
                    pump.Event(KindName(e.Kind), text);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The command is ending.
        }
    }

    private static string KindName(SwarmEventKind kind) => kind switch
    {
        SwarmEventKind.PeerConnected => "peer-connected",
        SwarmEventKind.PeerDisconnected => "peer-disconnected",
        SwarmEventKind.PeerBanned => "peer-banned",
        SwarmEventKind.PieceFailed => "piece-failed",
        SwarmEventKind.MetadataReceived => "metadata",
        SwarmEventKind.SourcePieceInvalid => "source-mismatch",
        SwarmEventKind.PiecesUnavailable => "pieces-unavailable",
        _ => kind.ToString(),
    };
}

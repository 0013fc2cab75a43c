using System.Net;
using BlockTorrent.Manifest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BlockTorrent.Discovery;

/// <summary>
/// Every peer source of one torrent, chosen by its <see cref="DiscoveryPolicy"/>: its HTTP and UDP trackers,
/// Local Service Discovery (unless private), and explicit addresses. The swarm starts it with a callback that takes
/// the peers found (e.g. <c>TorrentSwarm.AddCandidates</c>), calls <see cref="NotifyCompleted"/> when the download
/// completes, and disposes it on leaving (trackers hear <c>stopped</c>).
/// </summary>
internal sealed class PeerDiscovery : IAsyncDisposable
{
    private readonly List<IPeerSource> _sources;

    private PeerDiscovery(List<IPeerSource> sources, DiscoveryPolicy policy)
    {
        _sources = sources;
        Policy = policy;
    }

    /// <summary>Gets the policy the sources were chosen by; the swarm enforces <see cref="DiscoveryPolicy.AllowsPeerExchange"/>.</summary>
    public DiscoveryPolicy Policy { get; }

    /// <summary>Gets the sources, for logs and tests.</summary>
    public IReadOnlyList<IPeerSource> Sources => _sources;

    /// <summary>Creates the sources of one torrent.</summary>
    /// <param name="infoHash">The torrent.</param>
    /// <param name="peerId">Our 20-byte peer id.</param>
    /// <param name="port">Our TCP port.</param>
    /// <param name="policy">What the torrent may use (from its private flag and the user's settings).</param>
    /// <param name="trackers">Tracker addresses (http, https, udp); others are skipped with a log line.</param>
    /// <param name="explicitPeers">Addresses the user gave.</param>
    /// <param name="localDiscovery">The process's started LSD instance, or <see langword="null"/> when LSD is off.</param>
    /// <param name="stats">Reads our transfer counters for announces.</param>
    /// <param name="options">Tracker client options, or <see langword="null"/>.</param>
    /// <param name="httpClient">The HTTP client for HTTP trackers, or <see langword="null"/> for one per tracker.</param>
    /// <param name="logger">The logger, or <see langword="null"/>.</param>
    /// <returns>The discovery, not yet started.</returns>
    public static PeerDiscovery Create(
        InfoHash infoHash,
        ReadOnlyMemory<byte> peerId,
        int port,
        DiscoveryPolicy policy,
        IEnumerable<Uri> trackers,
        IEnumerable<IPEndPoint> explicitPeers,
        LocalPeerDiscovery? localDiscovery,
        Func<TransferStats> stats,
        TrackerClientOptions? options = null,
        HttpClient? httpClient = null,
        ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(trackers);
        ArgumentNullException.ThrowIfNull(explicitPeers);
        ArgumentNullException.ThrowIfNull(stats);
        logger ??= NullLogger.Instance;
        var sources = new List<IPeerSource>();
        foreach (Uri tracker in trackers.Distinct())
        {
            ITrackerClient? client = tracker.Scheme switch
            {
                "udp" => new UdpTrackerClient(tracker, options, logger),
                "http" or "https" => new HttpTrackerClient(tracker, httpClient, options, logger),
                _ => null,
            };
            if (client is null)
            {
                Log.TrackerSchemeUnsupported(logger, tracker);
                continue;
            }

            sources.Add(new TrackerPeerSource(client, infoHash, peerId, port, stats, null, logger));
        }

        if (policy.AllowsLocalDiscovery && localDiscovery is not null)
        {
            sources.Add(new LocalDiscoveryPeerSource(localDiscovery, infoHash, port));
        }

        IPEndPoint[] peers = [.. explicitPeers];
        if (peers.Length > 0)
        {
            sources.Add(new ExplicitPeerSource(peers));
        }

        return new PeerDiscovery(sources, policy);
    }

    /// <summary>Starts every source.</summary>
    /// <param name="onPeers">
    /// Takes each batch of peers found, with the address of the host that named them or null for the user's own
    /// (<see cref="IPeerSource.Start"/>); called from pool threads, it must not throw or block.
    /// </param>
    public void Start(Action<IReadOnlyList<IPEndPoint>, IPAddress?> onPeers)
    {
        foreach (IPeerSource source in _sources)
        {
            source.Start(onPeers);
        }
    }

    /// <summary>Tells every source that the download completed.</summary>
    public void NotifyCompleted()
    {
        foreach (IPeerSource source in _sources)
        {
            source.NotifyCompleted();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_sources.Select(s => s.DisposeAsync().AsTask())).ConfigureAwait(false);
    }
}

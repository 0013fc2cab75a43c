namespace BlockTorrent.Swarm;

/// <summary>
/// The settings a <see cref="TorrentSwarm"/> runs with: a snapshot the client takes of its validated
/// <c>BlockTorrentClientOptions</c>, so the swarm depends on nothing above it and never sees a later change.
/// </summary>
internal sealed record SwarmSettings
{
    /// <summary>Gets how the swarm decides which interested peers it uploads to.</summary>
    public required ChokingPolicy ChokingPolicy { get; init; }

    /// <summary>Gets how many peers are unchoked at once, 0 for no limit.</summary>
    public required int MaxUploads { get; init; }

    /// <summary>Gets how much transfer time the request pipeline to each peer should cover.</summary>
    public required TimeSpan RequestQueueTime { get; init; }

    /// <summary>Gets the most requests outstanding to one peer.</summary>
    public required int MaxRequestQueueDepth { get; init; }

    /// <summary>Gets how long a request may stay unanswered before it is given to another peer.</summary>
    public required TimeSpan RequestTimeout { get; init; }

    /// <summary>Gets the TCP congestion control algorithm set on peer sockets, or null for the system's.</summary>
    public required string? TcpCongestionControl { get; init; }

    /// <summary>Gets how many failed pieces a peer may send before it is banned.</summary>
    public required int MaxHashFailuresPerPeer { get; init; }

    /// <summary>Gets the most connections one torrent keeps.</summary>
    public required int MaxConnectionsPerTorrent { get; init; }

    /// <summary>Gets the size of the extents the picker spreads peers over.</summary>
    public required int ExtentSize { get; init; }

    /// <summary>Gets the size of the cache that serves pieces to peers from the device.</summary>
    public required long ReadCacheSize { get; init; }

    /// <summary>Gets a value indicating whether peers are exchanged (BEP 11) on public torrents.</summary>
    public required bool EnablePeerExchange { get; init; }

    /// <summary>Gets how often peers are exchanged.</summary>
    public required TimeSpan PeerExchangeInterval { get; init; }
}

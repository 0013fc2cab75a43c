namespace BlockTorrent;

/// <summary>What happened in a swarm.</summary>
public enum SwarmEventKind
{
    /// <summary>A peer connection completed its handshake.</summary>
    PeerConnected = 0,

    /// <summary>A peer connection closed; <see cref="SwarmEvent.Detail"/> says why.</summary>
    PeerDisconnected = 1,

    /// <summary>A peer was banned after sending pieces that failed their hash check.</summary>
    PeerBanned = 2,

    /// <summary>A piece was verified and is on the device (downloaded, or a duplicate copied locally).</summary>
    PieceVerified = 3,

    /// <summary>A downloaded piece failed its hash check and will be fetched again.</summary>
    PieceFailed = 4,

    /// <summary>Every piece of the image is on the device.</summary>
    Completed = 5,

    /// <summary>The torrent's metadata arrived from peers (a deployment started from a magnet link).</summary>
    MetadataReceived = 6,
}

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

    /// <summary>
    /// A seed read a piece from its source that does not match the manifest (the image changed after the manifest was
    /// made); <see cref="SwarmEvent.Piece"/> names it and <see cref="SwarmEvent.Detail"/> the source. It is not served.
    /// </summary>
    SourcePieceInvalid = 7,

    /// <summary>
    /// A deployment has pieces left that no peer it can use has; <see cref="SwarmEvent.Detail"/> names them and the
    /// banned peers. It stops after <see cref="DeployOptions.StallTimeout"/> unless a source turns up.
    /// </summary>
    PiecesUnavailable = 8,

    /// <summary>
    /// A re-image's check read a piece back from the target and found it already there (<see cref="SwarmEvent.Piece"/>);
    /// it is on the device and served from now on. Pieces the check wrote from bytes found elsewhere on the target are
    /// <see cref="PieceVerified"/>.
    /// </summary>
    PieceFoundOnDevice = 9,

    /// <summary>A re-image's check has read every region of the target; what it found missing comes from peers.</summary>
    CheckCompleted = 10,
}

namespace BlockTorrent.Discovery;

/// <summary>
/// Why an announce is sent. The values are the UDP tracker protocol's wire values (BEP 15); the HTTP protocol
/// sends the names (BEP 3).
/// </summary>
internal enum AnnounceEvent
{
    /// <summary>A regular announce at the tracker's interval.</summary>
    None = 0,

    /// <summary>The download has just completed (sent once; not when the torrent was complete at start).</summary>
    Completed = 1,

    /// <summary>The first announce of this peer in this swarm.</summary>
    Started = 2,

    /// <summary>The peer is leaving the swarm.</summary>
    Stopped = 3,
}

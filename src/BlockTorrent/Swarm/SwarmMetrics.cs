using System.Diagnostics.Metrics;
using BlockTorrent.Diagnostics;

namespace BlockTorrent.Swarm;

/// <summary>The swarm's instruments on the library's one meter.</summary>
internal static class SwarmMetrics
{
    /// <summary>Piece payload received from peers.</summary>
    public static Counter<long> BytesDownloaded { get; } = BlockTorrentMetrics.Meter.CreateCounter<long>("blocktorrent.bytes.downloaded", "By", "Piece payload received from peers and accepted.");

    /// <summary>Piece payload sent to peers.</summary>
    public static Counter<long> BytesUploaded { get; } = BlockTorrentMetrics.Meter.CreateCounter<long>("blocktorrent.bytes.uploaded", "By", "Piece payload sent to peers.");

    /// <summary>Connected peers, across all swarms.</summary>
    public static UpDownCounter<long> PeersConnected { get; } = BlockTorrentMetrics.Meter.CreateUpDownCounter<long>("blocktorrent.peers.connected", "{peer}", "Peer connections that completed their handshake and are open.");

    /// <summary>
    /// Peers a swarm dropped to protect itself, by <c>reason</c>: <c>not-reading</c> (its sends stuck, or its queue
    /// full), and the reasons of the connection slots and candidate filters.
    /// </summary>
    public static Counter<long> PeersEvicted { get; } = BlockTorrentMetrics.Meter.CreateCounter<long>("blocktorrent.peers.evicted", "{peer}", "Peer connections closed to protect the swarm, by reason.");

    /// <summary>Peer connections refused a connection slot (<see cref="ConnectionSlots"/>).</summary>
    public static Counter<long> PeersRefused { get; } = BlockTorrentMetrics.Meter.CreateCounter<long>("blocktorrent.peers.refused", "{peer}", "Peer connections refused a connection slot: too many from their address, or every slot taken by a peer that gives something.");

    /// <summary>Peers named to us (PEX, trackers, LSD) and not dialled, by <c>reason</c>.</summary>
    public static Counter<long> CandidatesRejected { get; } = BlockTorrentMetrics.Meter.CreateCounter<long>("blocktorrent.candidates.rejected", "{peer}", "Peers named to us and not dialled: an address no peer has, ours, a loopback address from another host, a PEX list sent too soon, or a peer that kept failing.");

    /// <summary>Peers banned for sending corrupt pieces.</summary>
    public static Counter<long> PeersBanned { get; } = BlockTorrentMetrics.Meter.CreateCounter<long>("blocktorrent.peers.banned", "{peer}", "Peers banned after sending pieces that failed their hash check.");
}

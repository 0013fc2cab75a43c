using System.Net;

namespace BlockTorrent.Discovery;

/// <summary>What a tracker answered to an announce.</summary>
internal sealed record AnnounceResponse
{
    /// <summary>Gets how long to wait before the next regular announce.</summary>
    public required TimeSpan Interval { get; init; }

    /// <summary>Gets the shortest wait the tracker allows between announces, when it says so.</summary>
    public TimeSpan? MinInterval { get; init; }

    /// <summary>Gets the tracker id to send back on later announces, when the tracker gave one.</summary>
    public string? TrackerId { get; init; }

    /// <summary>Gets a warning the tracker sent along with a successful answer.</summary>
    public string? WarningMessage { get; init; }

    /// <summary>Gets the number of seeds in the swarm, when the tracker says.</summary>
    public int? Seeders { get; init; }

    /// <summary>Gets the number of peers still downloading, when the tracker says.</summary>
    public int? Leechers { get; init; }

    /// <summary>Gets the peers the tracker returned (IPv4 and IPv6), without duplicates or port 0.</summary>
    public required IReadOnlyList<IPEndPoint> Peers { get; init; }

    /// <summary>
    /// Gets the address the answer came from (the tracker's, or the proxy's as <see cref="IPAddress.None"/>), or
    /// null when it is not known: it decides whether the tracker may name loopback peers (<c>PeerAddress.Rejects</c>).
    /// </summary>
    public IPAddress? Source { get; init; }
}

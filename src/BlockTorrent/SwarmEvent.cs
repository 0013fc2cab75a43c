using System.Net;

namespace BlockTorrent;

/// <summary>Something that happened in one of a client's swarms, as delivered by <see cref="BlockTorrentClient.WatchEventsAsync"/>.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="InfoHash">The torrent's info-hash in hexadecimal (v1 when it has one, else v2).</param>
public sealed record SwarmEvent(SwarmEventKind Kind, string InfoHash)
{
    /// <summary>Gets the peer concerned, when there is one.</summary>
    public IPEndPoint? Peer { get; init; }

    /// <summary>Gets the piece concerned, or -1.</summary>
    public int Piece { get; init; } = -1;

    /// <summary>Gets more about the event (a disconnect's reason), when there is more.</summary>
    public string? Detail { get; init; }
}

using BlockTorrent.Manifest;

namespace BlockTorrent.Discovery;

/// <summary>What a peer tells a tracker about itself in one announce (BEP 3, BEP 15).</summary>
internal sealed record AnnounceRequest
{
    /// <summary>The length of a peer id in bytes.</summary>
    public const int PeerIdLength = 20;

    /// <summary>Gets the torrent; trackers see its 20-byte form (<see cref="InfoHash.Truncated20"/>, BEP 52).</summary>
    public required InfoHash InfoHash { get; init; }

    /// <summary>Gets our 20-byte peer id.</summary>
    public required ReadOnlyMemory<byte> PeerId { get; init; }

    /// <summary>Gets the TCP port we accept peer connections on.</summary>
    public required int Port { get; init; }

    /// <summary>Gets the bytes uploaded since the <see cref="AnnounceEvent.Started"/> announce.</summary>
    public long Uploaded { get; init; }

    /// <summary>Gets the bytes downloaded since the <see cref="AnnounceEvent.Started"/> announce.</summary>
    public long Downloaded { get; init; }

    /// <summary>Gets the bytes still missing (0 for a seed).</summary>
    public long Left { get; init; }

    /// <summary>Gets the reason for this announce.</summary>
    public AnnounceEvent Event { get; init; }

    /// <summary>Gets how many peers we would like; negative lets the tracker decide.</summary>
    public int NumWant { get; init; } = 50;

    /// <summary>Gets the key that lets a tracker recognise us when our address changes.</summary>
    public uint Key { get; init; }

    /// <summary>Gets the tracker id a previous HTTP response asked us to send back, if any.</summary>
    public string? TrackerId { get; init; }

    /// <summary>Gets the 20 bytes a tracker knows the torrent by.</summary>
    public ReadOnlySpan<byte> InfoHash20 => InfoHash.Truncated20;

    /// <summary>Throws when a field cannot be sent.</summary>
    /// <exception cref="ArgumentException">A field is out of its range.</exception>
    public void Validate()
    {
        if (InfoHash.Version == TorrentVersions.None)
        {
            throw new ArgumentException("The announce has no info-hash.", nameof(InfoHash));
        }

        if (PeerId.Length != PeerIdLength)
        {
            throw new ArgumentException($"A peer id is {PeerIdLength} bytes, not {PeerId.Length}.", nameof(PeerId));
        }

        if (Port is < 1 or > 65535)
        {
            throw new ArgumentException($"The port {Port} is not in 1..65535.", nameof(Port));
        }

        if (Uploaded < 0 || Downloaded < 0 || Left < 0)
        {
            throw new ArgumentException($"Transfer counters cannot be negative (uploaded {Uploaded}, downloaded {Downloaded}, left {Left}).");
        }
    }
}

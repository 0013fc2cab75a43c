namespace BlockTorrent;

/// <summary>What a seed has done so far, reported through <see cref="SeedOptions.Progress"/> about four times a second.</summary>
public sealed record SeedProgress
{
    /// <summary>Gets the piece payload sent to peers so far, in bytes.</summary>
    public long BytesUploaded { get; init; }

    /// <summary>Gets the number of connected peers.</summary>
    public int ConnectedPeers { get; init; }

    /// <summary>Gets the number of peer connections made since seeding started.</summary>
    public int PeersSeen { get; init; }

    /// <summary>
    /// Gets the peers connected now: where each is, how many pieces it has announced, and the traffic with it. A depot
    /// sees each target's progress here (targets announce every piece they get to every peer).
    /// </summary>
    public IReadOnlyList<PeerProgress> Peers { get; init; } = [];

    /// <summary>Gets the time since seeding started.</summary>
    public TimeSpan Elapsed { get; init; }
}

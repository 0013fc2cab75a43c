using BlockTorrent.Swarm.Bandwidth;

namespace BlockTorrent.Swarm;

/// <summary>The swarm's bandwidth caps: the client's buckets, shared by all its swarms, and the swarm's own.</summary>
internal sealed partial class TorrentSwarm
{
    /// <inheritdoc/>
    /// <remarks>Set before <see cref="Start"/>; the default is no limit.</remarks>
    public RateLimit Upload { get; init; } = RateLimit.None;

    /// <inheritdoc/>
    /// <remarks>Set before <see cref="Start"/>; the default is no limit.</remarks>
    public RateLimit Download { get; init; } = RateLimit.None;
}

using System.Net;

namespace BlockTorrent.Swarm;

/// <summary>
/// Who gets one of a torrent's connection slots (<see cref="SwarmSettings.MaxConnectionsPerTorrent"/>), so that a host
/// holding idle connections cannot keep a target from its seed or a seed from its targets.
/// </summary>
/// <remarks>
/// <para>
/// Three rules. One address (other than this machine's own) holds at most <see cref="MaxPerAddress"/> connections.
/// <see cref="ReservedFor"/> slots are kept for peers we dial from the sources we trust to name peers (trackers,
/// <c>--peer</c>, Local Service Discovery): peers that dialled us and peers PEX named never fill them. And when the
/// slots a newcomer may take are full, it takes the slot of a peer that gives nothing: one that has no piece we want
/// and has moved no piece data either way for <see cref="IdleEviction"/> (counted from its connection, so a new peer
/// has that long to start); the one idle longest goes. A newcomer from an address whose peer was evicted so lately
/// takes no one's slot (<see cref="EvictedAddresses"/>), or idle peers would keep every slot young by evicting each other.
/// </para>
/// <para>Not thread-safe: the swarm decides under its lock.</para>
/// </remarks>
internal static class ConnectionSlots
{
    /// <summary>The most connections of one torrent from one address, except this machine's own.</summary>
    public const int MaxPerAddress = 8;

    /// <summary>How long a peer with no piece we want may move no piece data before a newcomer may take its slot.</summary>
    public static readonly TimeSpan IdleEviction = TimeSpan.FromSeconds(10);

    /// <summary>Gets how many of <paramref name="max"/> slots are kept for peers we dial from trusted sources: an eighth.</summary>
    /// <param name="max">The torrent's connection limit.</param>
    /// <returns>The reserved slots.</returns>
    public static int ReservedFor(int max) => max / 8;

    /// <summary>Decides whether a newcomer gets a slot, and whose slot it takes.</summary>
    /// <param name="sessions">The torrent's sessions.</param>
    /// <param name="max">The torrent's connection limit.</param>
    /// <param name="newcomer">Where the newcomer connects from.</param>
    /// <param name="sameHost">Whether the newcomer is on this machine.</param>
    /// <param name="reserved">Whether we dialled the newcomer from a trusted source.</param>
    /// <param name="now">The time now.</param>
    /// <param name="idleTicks"><see cref="IdleEviction"/> in timestamp ticks.</param>
    /// <param name="wanted">Whether a session has a piece we want.</param>
    /// <param name="mayEvict">
    /// Whether the newcomer may take another peer's slot: not when a peer from its address was evicted lately
    /// (<see cref="EvictedAddresses"/>).
    /// </param>
    /// <param name="evict">The session whose slot the newcomer takes (to be closed), or null.</param>
    /// <returns>Null when the newcomer is admitted, else why it is refused.</returns>
    public static string? Decide(List<PeerSession> sessions, int max, IPAddress newcomer, bool sameHost, bool reserved, long now, long idleTicks, Func<PeerSession, bool> wanted, bool mayEvict, out PeerSession? evict)
    {
        evict = null;
        IPAddress address = PeerAddress.Normalize(newcomer);
        int total = 0;
        int unreserved = 0;
        int fromAddress = 0;
        foreach (PeerSession s in sessions)
        {
            if (s.Evicted)
            {
                continue;
            }

            total++;
            unreserved += s.Reserved ? 0 : 1;
            fromAddress += !sameHost && !s.SameHost && PeerAddress.Normalize(s.Remote.Address).Equals(address) ? 1 : 0;
        }

        if (fromAddress >= MaxPerAddress)
        {
            return "too many connections from its address";
        }

        // A newcomer we did not dial from a trusted source may use only the unreserved slots, and if those are full it
        // must take an unreserved peer's slot (taking a reserved one would leave it over its share).
        bool quotaFull = !reserved && unreserved >= max - ReservedFor(max);
        if (total < max && !quotaFull)
        {
            return null;
        }

        if (!mayEvict)
        {
            return "its address gave nothing when it last held a slot, and every free slot is taken";
        }

        foreach (PeerSession s in sessions)
        {
            if (s.Evicted || (quotaFull && s.Reserved) || now - s.LastUseful < idleTicks || wanted(s))
            {
                continue;
            }

            if (evict is null || s.LastUseful < evict.LastUseful)
            {
                evict = s;
            }
        }

        return evict is null ? "every connection slot is taken by a peer that gives something" : null;
    }
}

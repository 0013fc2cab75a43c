using System.Net;

namespace BlockTorrent.Swarm;

/// <summary>
/// The addresses whose peers lost their connection slot for giving nothing, remembered for <see cref="Memory"/>: a
/// newcomer from one of them may take a free slot but never another peer's (<see cref="ConnectionSlots"/>).
/// </summary>
/// <remarks>
/// <para>
/// Without it, more idle peers than slots keep every slot young: each one evicted reconnects and evicts the next that
/// has been idle long enough, so the idle-eviction age is reached only for a moment at a time and a real target's
/// dial almost never lands in it. An address that held a slot and gave nothing has had its chance; the slots it would
/// take stay with the peers that are idle longest, for a newcomer from anywhere else.
/// </para>
/// <para>At most <see cref="Capacity"/> addresses are remembered; the oldest is forgotten first. Not thread-safe: the
/// swarm calls it under its lock.</para>
/// </remarks>
internal sealed class EvictedAddresses
{
    /// <summary>The most addresses remembered.</summary>
    public const int Capacity = 1024;

    /// <summary>How long an address whose peer was evicted may not evict others.</summary>
    public static readonly TimeSpan Memory = TimeSpan.FromMinutes(5);

    private readonly Dictionary<IPAddress, long> _evictedAt = [];
    private readonly long _memoryTicks;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="timestampFrequency">Ticks per second of the timestamps passed in.</param>
    public EvictedAddresses(long timestampFrequency) => _memoryTicks = (long)(Memory.TotalSeconds * timestampFrequency);

    /// <summary>Remembers that a peer from an address was evicted.</summary>
    /// <param name="address">Its address.</param>
    /// <param name="now">The current timestamp.</param>
    public void Add(IPAddress address, long now)
    {
        address = PeerAddress.Normalize(address);
        if (!_evictedAt.ContainsKey(address) && _evictedAt.Count >= Capacity)
        {
            IPAddress oldest = _evictedAt.MinBy(entry => entry.Value).Key;
            _evictedAt.Remove(oldest);
        }

        _evictedAt[address] = now;
    }

    /// <summary>Gets whether a peer from an address was evicted within <see cref="Memory"/>.</summary>
    /// <param name="address">The address.</param>
    /// <param name="now">The current timestamp.</param>
    /// <returns><see langword="true"/> when its newcomers may take only free slots.</returns>
    public bool Contains(IPAddress address, long now)
    {
        address = PeerAddress.Normalize(address);
        if (!_evictedAt.TryGetValue(address, out long at))
        {
            return false;
        }

        if (now - at < _memoryTicks)
        {
            return true;
        }

        _evictedAt.Remove(address);
        return false;
    }
}

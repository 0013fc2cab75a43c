using System.Net;

namespace BlockTorrent.Swarm;

/// <summary>
/// The peers a swarm may dial, from every source together (trackers, LSD, PEX, the listen ports peers that dialled us
/// name), with the dials in progress, the back-off after failed ones, and the addresses found to be ourselves.
/// </summary>
/// <remarks>
/// At most <see cref="Capacity"/> peers are remembered, so a flood of PEX costs nothing. Not thread-safe: the swarm
/// calls it under its lock.
/// </remarks>
internal sealed class PeerCandidates
{
    /// <summary>The most peers remembered from trackers, LSD and PEX.</summary>
    public const int Capacity = 1000;

    private readonly Dictionary<IPEndPoint, Candidate> _candidates = [];
    private readonly HashSet<IPEndPoint> _connecting = [];
    private readonly HashSet<IPEndPoint> _self = [];

    /// <summary>Gets how many dials are in progress.</summary>
    public int Connecting => _connecting.Count;

    /// <summary>Remembers peers to dial, up to <see cref="Capacity"/>; never ourselves, never port 0.</summary>
    /// <param name="peers">The peers a source named.</param>
    /// <param name="reserved">
    /// Whether the source is one we trust to name peers (a tracker, <c>--peer</c>, LSD): such a peer is dialled into
    /// the slots <see cref="ConnectionSlots"/> reserves, even if PEX named it first.
    /// </param>
    public void Add(IEnumerable<IPEndPoint> peers, bool reserved)
    {
        foreach (IPEndPoint peer in peers)
        {
            if (peer.Port == 0 || _self.Contains(peer))
            {
                continue;
            }

            if (_candidates.TryGetValue(peer, out Candidate? known))
            {
                known.Reserved |= reserved;
            }
            else if (_candidates.Count < Capacity)
            {
                _candidates[peer] = new Candidate { Reserved = reserved };
            }
        }
    }

    /// <summary>Gets whether a peer was named by a trusted source (<see cref="Add"/>).</summary>
    /// <param name="endPoint">The peer.</param>
    /// <returns>Whether it is dialled into a reserved slot.</returns>
    public bool IsReserved(IPEndPoint endPoint) => _candidates.TryGetValue(endPoint, out Candidate? candidate) && candidate.Reserved;

    /// <summary>
    /// Remembers the port a peer that dialled us listens on, so it is dialled back if its connection drops; a peer
    /// connected to us already is past every filter, so the limit does not apply.
    /// </summary>
    /// <param name="listen">The peer's address with the listen port from its extended handshake.</param>
    public void AddListenPort(IPEndPoint listen) => _candidates.TryAdd(listen, new Candidate());

    /// <summary>Forgets an address our own peer id answered from, and never dials it again.</summary>
    /// <param name="endPoint">The address we dialled.</param>
    public void MarkSelf(IPEndPoint endPoint)
    {
        _self.Add(endPoint);
        _candidates.Remove(endPoint);
    }

    /// <summary>Picks the peers to dial now, and counts them as connecting until <see cref="DialEnded"/>.</summary>
    /// <param name="now">The current timestamp.</param>
    /// <param name="reservedRoom">The most peers from trusted sources to pick.</param>
    /// <param name="room">The most other peers to pick.</param>
    /// <param name="skip">Whether a peer must not be dialled (banned, connected already).</param>
    /// <returns>The peers to dial; empty when none is due.</returns>
    public List<IPEndPoint> TakeDue(long now, int reservedRoom, int room, Func<IPEndPoint, bool> skip)
    {
        var targets = new List<IPEndPoint>();
        foreach ((IPEndPoint endPoint, Candidate candidate) in _candidates)
        {
            if (reservedRoom <= 0 && room <= 0)
            {
                break;
            }

            if ((candidate.Reserved ? reservedRoom : room) <= 0 || now < candidate.NextAttempt || _connecting.Contains(endPoint) || skip(endPoint))
            {
                continue;
            }

            _connecting.Add(endPoint);
            targets.Add(endPoint);
            if (candidate.Reserved)
            {
                reservedRoom--;
            }
            else
            {
                room--;
            }
        }

        return targets;
    }

    /// <summary>
    /// Ends a dial from <see cref="TakeDue"/>: the peer is not dialled again for 2 s after a dial that connected, and
    /// after failed ones for twice as long after each (4 s, 8 s, ... up to 60 s).
    /// </summary>
    /// <param name="endPoint">The peer dialled.</param>
    /// <param name="connected">Whether the dial ended in a registered session.</param>
    /// <param name="now">The current timestamp.</param>
    /// <param name="frequency">Ticks per second of the timestamps.</param>
    public void DialEnded(IPEndPoint endPoint, bool connected, long now, long frequency)
    {
        _connecting.Remove(endPoint);
        if (_candidates.TryGetValue(endPoint, out Candidate? candidate))
        {
            candidate.Failures = connected ? 0 : candidate.Failures + 1;
            candidate.NextAttempt = now + (frequency * Math.Min(60, 2 << Math.Min(candidate.Failures, 5)));
        }
    }

    private sealed class Candidate
    {
        public long NextAttempt { get; set; }

        public int Failures { get; set; }

        public bool Reserved { get; set; }
    }
}

using System.Net;

namespace BlockTorrent.Swarm;

/// <summary>
/// The peers a swarm may dial, from every source together (trackers, LSD, PEX, the listen ports peers that dialled us
/// name), with the dials in progress, the back-off after failed ones, and the addresses found to be ourselves.
/// </summary>
/// <remarks>
/// At most <see cref="Capacity"/> peers are remembered, so a flood of PEX costs nothing. A peer named must pass
/// <see cref="PeerAddress.Rejects"/>; one only PEX named is forgotten after <see cref="MaxFailures"/> failed dials in a
/// row, and makes room for one a trusted source names when the list is full, so bogus names cannot crowd out the
/// real peers. Not thread-safe: the swarm calls it under its lock.
/// </remarks>
internal sealed class PeerCandidates
{
    /// <summary>The most peers remembered from trackers, LSD and PEX.</summary>
    public const int Capacity = 1000;

    /// <summary>How many failed dials in a row make a peer only PEX named forgotten.</summary>
    public const int MaxFailures = 3;

    private readonly Dictionary<IPEndPoint, Candidate> _candidates = [];
    private readonly int _listenPort;

    /// <summary>Initializes a new instance of the <see cref="PeerCandidates"/> class.</summary>
    /// <param name="listenPort">Our listen port, to recognise our own endpoint.</param>
    public PeerCandidates(int listenPort) => _listenPort = listenPort;
    private readonly HashSet<IPEndPoint> _connecting = [];
    private readonly HashSet<IPEndPoint> _self = [];

    /// <summary>Gets how many dials are in progress.</summary>
    public int Connecting => _connecting.Count;

    /// <summary>Remembers peers to dial, up to <see cref="Capacity"/>; never ourselves, never an address <see cref="PeerAddress.Rejects"/>.</summary>
    /// <param name="peers">The peers a source named.</param>
    /// <param name="source">The address of the host that named them, or null for peers the user named (<see cref="PeerAddress.Rejects"/>).</param>
    /// <param name="trusted">
    /// Whether the source is one we trust to name peers (a tracker, <c>--peer</c>, LSD), not another peer (PEX): such a
    /// peer is dialled into the slots <see cref="ConnectionSlots"/> reserves, even if PEX named it first.
    /// </param>
    public void Add(IEnumerable<IPEndPoint> peers, IPAddress? source, bool trusted)
    {
        bool reserved = trusted;
        foreach (IPEndPoint peer in peers)
        {
            if (_self.Contains(peer))
            {
                continue;
            }

            if (PeerAddress.Rejects(peer, source, _listenPort) is { } reason)
            {
                SwarmMetrics.CandidatesRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));
                continue;
            }

            if (_candidates.TryGetValue(peer, out Candidate? known))
            {
                known.Reserved |= reserved;
            }
            else if (_candidates.Count < Capacity || (reserved && TryForgetOneExchanged()))
            {
                _candidates[peer] = new Candidate { Reserved = reserved };
            }
        }
    }

    /// <summary>Forgets one peer only PEX named and not being dialled, the one that failed most; false when there is none.</summary>
    private bool TryForgetOneExchanged()
    {
        IPEndPoint? worst = null;
        int failures = -1;
        foreach ((IPEndPoint endPoint, Candidate candidate) in _candidates)
        {
            if (!candidate.Reserved && candidate.Failures > failures && !_connecting.Contains(endPoint))
            {
                worst = endPoint;
                failures = candidate.Failures;
            }
        }

        return worst is not null && _candidates.Remove(worst);
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
    /// after failed ones for twice as long after each (4 s, 8 s, ... up to 60 s); a peer only PEX named is forgotten
    /// after <see cref="MaxFailures"/> failures in a row.
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
            if (!candidate.Reserved && candidate.Failures >= MaxFailures)
            {
                _candidates.Remove(endPoint);
                SwarmMetrics.CandidatesRejected.Add(1, new KeyValuePair<string, object?>("reason", "failing"));
                return;
            }

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

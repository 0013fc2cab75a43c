namespace BlockTorrent.Swarm;

/// <summary>
/// BEP 16 super-seeding for an initial seed: instead of announcing every piece, the seed offers each peer a few pieces
/// at a time, always those fewest peers have or have been offered, and paces each peer by how fast it passes on what
/// it got, so the seed uploads each piece about once and the peers spread it among themselves.
/// </summary>
/// <remarks>
/// <para>
/// A peer holds at most <see cref="OffersPerPeer"/> open offers (offered, not yet announced). Once it announces one,
/// the piece counts as <em>unforwarded</em> until some other peer announces it too; a peer's open offers and
/// unforwarded pieces together stay under <see cref="HeldPerPeer"/>. A peer that re-shares fast thus gets more of the
/// seed's upload, and one that sits on its pieces gets less, which is what keeps every piece leaving the seed once:
/// BEP 16 itself waits for every piece to reappear elsewhere. An announcement that never comes (peers that cannot reach
/// each other, or a swarm of one) stops holding a peer back after the forward wait given to the constructor, so pacing
/// can slow the seed but never stall it. A lone peer is never held back at all, and only peers that requested from us
/// count here: peers that never ask (idle connections) pass nothing on and must not hold the one real target back.
/// </para>
/// <para>
/// An offer is a promise, not a transfer: a piece counts as on its way (<see cref="FirstCopiesInFlight"/>) only once
/// its peer has requested a block of it (<see cref="PeerRequested"/>). Until then the offer still counts against
/// offering the piece elsewhere, for the request wait given to the constructor; an offer its peer does not request
/// within that wait while requesting nothing else from us (an idle peer) stops counting, so the piece is offered to
/// others, while the peer keeps the offer's slot and gets no more. A slow peer that keeps requesting its other offers
/// keeps this one too. Idle peers thus hold no piece back from the peers that fetch.
/// </para>
/// <para>
/// Falling back (when the constructor's <c>adaptive</c> is set): a peer none of whose last <see cref="HeldPerPeer"/>
/// announced pieces was passed on within the forward wait — it is alone, or cannot reach the others, or they cannot
/// reach it — gains nothing from offers, which only cap it at a few pieces in flight. <see cref="ShouldOpen"/> then
/// says so, and the swarm announces every piece to it and serves it as a plain seed would (<see cref="Open"/>). The
/// evidence takes a forward wait to gather, and a peer that passes on even one piece in that window stays paced.
/// </para>
/// <para>
/// Piece choice: first a piece nobody has or was offered (the first pass over the image); then the fewest holders
/// and open offers; last, a piece still on its way from us to its first holder, because a second copy of it would
/// compete for our link with the very transfer it duplicates. Not thread-safe: the swarm serialises calls.
/// </para>
/// <para>
/// Only pieces the peer will request are offered, because an offer it never requests holds one of its
/// <see cref="OffersPerPeer"/> slots until it leaves, and a peer whose slots are all held so gets nothing more: a later
/// copy of a duplicate piece is offered only to a peer that already has the first copy (its canonical piece). A peer
/// that fills duplicates in locally (every BlockTorrent target) requests only first copies and announces every copy
/// once it has the first, so it is never offered a later copy; a peer that fetches every piece gets the later copies
/// after the first. All-zero pieces need no such rule: a BlockTorrent target has them before it connects.
/// </para>
/// <para>
/// A stream-format target requests only pieces in its decoder's window, so a peer that told us its window
/// (<see cref="SetWindow"/>) is offered only pieces inside it, and offers it made outside are given back: an offer it
/// will not request for a long while would hold its slot all that time, and a peer whose slots are held so gets
/// nothing more while its decoder waits for a piece we never offered it. A peer that tells no window is offered any
/// piece.
/// </para>
/// <para>
/// Second copies wait for the first pass: while some piece is still on its way to its first holder, no piece is
/// offered a second time, because every second copy would share our link with the last first copies, which the whole
/// swarm waits for. The wait ends when the last first copy arrives, or once no first copy has arrived for the hold
/// given to the constructor (a peer sitting on its offers, or a slow one, cannot keep our link idle for long).
/// </para>
/// </remarks>
internal sealed class SuperSeeder
{
    // Above any holder count a swarm can reach, so in-flight pieces rank after every piece some peer holds.
    private const int InFlightPenalty = 1 << 20;

    private readonly int[] _seen;
    private readonly int[] _offered;
    private readonly int[] _requested;
    private readonly bool[] _withdrawn;
    private readonly List<Peer> _peers = [];
    private readonly long _forwardWaitTicks;
    private readonly long _firstPassHoldTicks;
    private readonly long _requestWaitTicks;
    private readonly Random _random;
    private readonly Func<int, int>? _canonical;
    private readonly bool _adaptive;
    private long? _lastFirstArrival;
    private long _nextUnrequestedExpiry = long.MaxValue;
    private int _requestingPeers;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="pieceCount">The number of pieces.</param>
    /// <param name="offersPerPeer">The most open offers one peer holds.</param>
    /// <param name="heldPerPeer">The most open offers plus unforwarded pieces one peer holds.</param>
    /// <param name="forwardWait">How long an unforwarded piece holds its peer back at most.</param>
    /// <param name="firstPassHold">How long after the last first copy arrived second copies keep waiting for the others.</param>
    /// <param name="timestampFrequency">Ticks per second of the timestamps passed in.</param>
    /// <param name="random">Breaks ties.</param>
    /// <param name="canonical">
    /// The first copy of each piece (the piece itself unless it duplicates an earlier one), or <see langword="null"/>
    /// when no piece repeats.
    /// </param>
    /// <param name="adaptive">Whether a peer whose pieces are not passed on is opened (<see cref="ShouldOpen"/>).</param>
    /// <param name="requestWait">
    /// How long an offer counts against offering its piece elsewhere while its peer requests nothing from us; the
    /// forward wait when <see langword="null"/>.
    /// </param>
    public SuperSeeder(int pieceCount, int offersPerPeer, int heldPerPeer, TimeSpan forwardWait, TimeSpan firstPassHold, long timestampFrequency, Random? random = null, Func<int, int>? canonical = null, bool adaptive = false, TimeSpan? requestWait = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(offersPerPeer, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(heldPerPeer, offersPerPeer);
        _seen = new int[pieceCount];
        _offered = new int[pieceCount];
        _requested = new int[pieceCount];
        _withdrawn = new bool[pieceCount];
        OffersPerPeer = offersPerPeer;
        HeldPerPeer = heldPerPeer;
        _forwardWaitTicks = (long)(forwardWait.TotalSeconds * timestampFrequency);
        _firstPassHoldTicks = (long)(firstPassHold.TotalSeconds * timestampFrequency);
        _requestWaitTicks = (long)((requestWait ?? forwardWait).TotalSeconds * timestampFrequency);
        _random = random ?? Random.Shared;
        _canonical = canonical;
        _adaptive = adaptive;
    }

    /// <summary>
    /// Creates the super-seeder a swarm runs with (the swarm simulation in benchmarks/ runs the same): about 1 MiB of
    /// offers per peer at a time (at least two pieces), three times that held in pieces not passed on yet before a
    /// peer's offers wait (for 3 s at most), and second copies held back while the last first copies keep arriving
    /// (at most 1 s since the last one).
    /// </summary>
    /// <param name="pieceCount">The number of pieces.</param>
    /// <param name="pieceLength">The nominal piece length in bytes.</param>
    /// <param name="timestampFrequency">Ticks per second of the timestamps passed in.</param>
    /// <param name="canonical">The first copy of each piece, or <see langword="null"/> when no piece repeats.</param>
    /// <param name="adaptive">Whether a peer whose pieces are not passed on is opened (<see cref="ShouldOpen"/>).</param>
    /// <param name="random">Breaks ties.</param>
    /// <returns>The super-seeder.</returns>
    public static SuperSeeder ForTorrent(int pieceCount, int pieceLength, long timestampFrequency, Func<int, int>? canonical, bool adaptive, Random? random = null)
    {
        int offersPerPeer = Math.Max(2, (int)Math.Min(64, (1L * 1024 * 1024) / pieceLength));
        return new SuperSeeder(pieceCount, offersPerPeer, 3 * offersPerPeer, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(1), timestampFrequency, random, canonical, adaptive);
    }

    /// <summary>Gets the most open offers one peer holds.</summary>
    public int OffersPerPeer { get; }

    /// <summary>Gets the most open offers plus unforwarded pieces one peer holds.</summary>
    public int HeldPerPeer { get; }

    /// <summary>
    /// Gets how many peers a piece is offered to and have not announced it yet, counting an offer not requested only
    /// while the request wait lasts.
    /// </summary>
    /// <param name="piece">The piece index.</param>
    /// <returns>The count.</returns>
    public int OfferedCount(int piece) => _offered[piece];

    /// <summary>Gets how many peers requested a piece after it was offered to them and have not announced it yet.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns>The count.</returns>
    public int RequestedCount(int piece) => _requested[piece];

    /// <summary>
    /// Gets how many pieces some peer requested after an offer and none holds yet (first copies on their way).
    /// </summary>
    public int FirstCopiesInFlight { get; private set; }

    /// <summary>Starts tracking a peer, counting the pieces it already has (its bitfield) as seen.</summary>
    /// <param name="peer">The peer.</param>
    public void AddPeer(Peer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        _peers.Add(peer);
        foreach (int piece in peer.Has.SetIndices())
        {
            Count(piece, seen: 1, offered: 0, requested: 0);
        }
    }

    /// <summary>Forgets a peer that left: its pieces and its open offers.</summary>
    /// <param name="peer">The peer.</param>
    public void RemovePeer(Peer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (!_peers.Remove(peer))
        {
            return;
        }

        foreach (int piece in peer.Has.SetIndices())
        {
            Count(piece, seen: -1, offered: 0, requested: 0);
        }

        foreach (int piece in peer.Offers)
        {
            Uncount(peer, piece);
        }

        if (peer.EverRequested)
        {
            _requestingPeers--;
        }

        peer.Offers.Clear();
        peer.Unforwarded.Clear();
    }

    /// <summary>
    /// Records a peer's request for a block: the peer is not idle, and a piece offered to it counts as on its way from
    /// now on (a first copy in flight while nobody holds it).
    /// </summary>
    /// <param name="peer">The peer that requested the block.</param>
    /// <param name="piece">The block's piece.</param>
    /// <param name="now">The current timestamp.</param>
    public void PeerRequested(Peer peer, int piece, long now)
    {
        ArgumentNullException.ThrowIfNull(peer);
        peer.LastRequest = now;
        if (!peer.EverRequested)
        {
            peer.EverRequested = true;
            _requestingPeers++;
        }

        if (!peer.Offers.Contains(piece) || !peer.Requested.Add(piece))
        {
            return;
        }

        // An offer still counted becomes a request; one whose wait ran out counts again.
        Count(piece, seen: 0, offered: peer.Unrequested.Remove(piece) ? 0 : 1, requested: 1);
    }

    /// <summary>Records a peer's have message (its <see cref="Peer.Has"/> is already updated).</summary>
    /// <param name="peer">The peer that announced the piece.</param>
    /// <param name="piece">The piece.</param>
    /// <param name="now">The current timestamp.</param>
    /// <returns>
    /// <see langword="true"/> when other peers may get new offers: one of their pieces now counts as passed on, or the
    /// last first copy arrived.
    /// </returns>
    public bool PeerHave(Peer peer, int piece, long now)
    {
        ArgumentNullException.ThrowIfNull(peer);
        bool firstCopy = _seen[piece] == 0;
        if (firstCopy)
        {
            _lastFirstArrival = now;
        }

        Count(piece, seen: 1, offered: 0, requested: 0);
        if (peer.Offers.Remove(piece))
        {
            Uncount(peer, piece);
            peer.Unforwarded[piece] = now;
        }

        bool freed = false;
        foreach (Peer other in _peers)
        {
            if (!ReferenceEquals(other, peer) && other.Unforwarded.Remove(piece))
            {
                other.UnsharedInARow = 0;
                freed = true;
            }
        }

        return freed || (firstCopy && FirstCopiesInFlight == 0);
    }

    /// <summary>
    /// Chooses the next piece to offer a peer, if its pacing allows one: the lowest-ranked piece it lacks and was
    /// not offered, at random among equals, recorded as offered; a second copy only once the first pass is through.
    /// </summary>
    /// <param name="peer">The peer.</param>
    /// <param name="now">The current timestamp.</param>
    /// <returns>The piece, or -1 when the peer holds enough for now or lacks nothing we have not offered it.</returns>
    public int NextOffer(Peer peer, long now)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ExpireUnforwarded(peer, now);
        ExpireUnrequested(now);
        int held = _requestingPeers < 2 ? 0 : peer.Unforwarded.Count;
        if (peer.Open || peer.Offers.Count >= OffersPerPeer || peer.Offers.Count + held >= HeldPerPeer)
        {
            return -1;
        }

        int best = -1;
        int bestScore = int.MaxValue;
        int ties = 0;
        for (int piece = peer.WindowStart; piece < peer.WindowEnd; piece++)
        {
            if (_withdrawn[piece] || peer.Has[piece] || peer.Offers.Contains(piece) || !CanRequest(peer, piece))
            {
                continue;
            }

            int seen = _seen[piece];
            int offered = _offered[piece];
            int score = seen == 0 && offered > 0 ? InFlightPenalty + offered : seen + offered;
            if (score < bestScore)
            {
                bestScore = score;
                best = piece;
                ties = 1;
            }
            else if (score == bestScore && _random.Next(++ties) == 0)
            {
                best = piece;
            }
        }

        if (best >= 0 && bestScore > 0 && WaitingForFirstPass(now))
        {
            return -1;
        }

        if (best >= 0)
        {
            Count(best, seen: 0, offered: 1, requested: 0);
            peer.Offers.Add(best);
            peer.Unrequested[best] = now;
            _nextUnrequestedExpiry = Math.Min(_nextUnrequestedExpiry, now + _requestWaitTicks);
        }

        return best;
    }

    /// <summary>
    /// A peer told us the pieces it requests now, <c>[start, end)</c> (a stream target's decoder window): from now on
    /// it is offered only pieces inside it, and its open offers outside it are given back.
    /// </summary>
    /// <param name="peer">The peer.</param>
    /// <param name="start">The first piece it requests.</param>
    /// <param name="end">The first piece past its window.</param>
    public void SetWindow(Peer peer, int start, int end)
    {
        ArgumentNullException.ThrowIfNull(peer);
        peer.WindowStart = Math.Clamp(start, 0, _seen.Length);
        peer.WindowEnd = Math.Clamp(end, peer.WindowStart, _seen.Length);
        peer.Offers.RemoveWhere(piece =>
        {
            if (piece >= peer.WindowStart && piece < peer.WindowEnd)
            {
                return false;
            }

            Uncount(peer, piece);
            return true;
        });
    }

    /// <summary>
    /// We no longer hold a piece (our source changed under it): it is never offered again, and open offers of it no
    /// longer count against their peers.
    /// </summary>
    /// <param name="piece">The piece.</param>
    public void Withdraw(int piece)
    {
        if (_withdrawn[piece])
        {
            return;
        }

        _withdrawn[piece] = true;
        foreach (Peer peer in _peers)
        {
            if (peer.Offers.Remove(piece))
            {
                Uncount(peer, piece);
            }
        }
    }

    /// <summary>
    /// Gets a value indicating whether a peer should be opened: adaptive seeding, and none of the last
    /// <see cref="HeldPerPeer"/> pieces it announced was passed on within the forward wait.
    /// </summary>
    /// <param name="peer">The peer.</param>
    /// <param name="now">The current timestamp.</param>
    /// <returns><see langword="true"/> to announce every piece to it (<see cref="Open"/>).</returns>
    public bool ShouldOpen(Peer peer, long now)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ExpireUnforwarded(peer, now);
        return _adaptive && !peer.Open && peer.UnsharedInARow >= HeldPerPeer;
    }

    /// <summary>
    /// Stops offering a peer pieces: the caller announces every piece to it from now on. Its open offers are given
    /// back; its pieces still count for the others' offers.
    /// </summary>
    /// <param name="peer">The peer.</param>
    public void Open(Peer peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        foreach (int piece in peer.Offers)
        {
            Uncount(peer, piece);
        }

        peer.Offers.Clear();
        peer.Unforwarded.Clear();
        peer.Open = true;
        OpenedPeers++;
    }

    /// <summary>Gets how many peers were opened (<see cref="Open"/>).</summary>
    public int OpenedPeers { get; private set; }

    // A later copy of a duplicate only to a peer that has the first: one that fills duplicates in never requests it.
    private bool CanRequest(Peer peer, int piece)
    {
        int first = _canonical?.Invoke(piece) ?? piece;
        return first == piece || peer.Has[first];
    }

    // Second copies wait while first copies are on their way and still arriving.
    private bool WaitingForFirstPass(long now) =>
        FirstCopiesInFlight > 0 && _lastFirstArrival is long last && now - last < _firstPassHoldTicks;

    // Changes a piece's holder, offer and request counts, keeping the count of first copies in flight.
    private void Count(int piece, int seen, int offered, int requested)
    {
        bool before = _seen[piece] == 0 && _requested[piece] > 0;
        _seen[piece] += seen;
        _offered[piece] += offered;
        _requested[piece] += requested;
        bool after = _seen[piece] == 0 && _requested[piece] > 0;
        FirstCopiesInFlight += (after ? 1 : 0) - (before ? 1 : 0);
    }

    // An open offer of the peer's ends (announced, given back, withdrawn or its peer gone): whatever it counted stops.
    private void Uncount(Peer peer, int piece)
    {
        if (peer.Requested.Remove(piece))
        {
            Count(piece, seen: 0, offered: -1, requested: -1);
        }
        else if (peer.Unrequested.Remove(piece))
        {
            Count(piece, seen: 0, offered: -1, requested: 0);
        }
    }

    // Offers not requested within the wait, by peers that requested nothing from us since, stop counting: their
    // pieces go to others. The peers keep the offers' slots.
    private void ExpireUnrequested(long now)
    {
        if (now < _nextUnrequestedExpiry)
        {
            return;
        }

        long next = long.MaxValue;
        foreach (Peer peer in _peers)
        {
            foreach (KeyValuePair<int, long> offer in peer.Unrequested)
            {
                long due = Math.Max(offer.Value, peer.LastRequest) + _requestWaitTicks;
                if (now >= due)
                {
                    peer.Unrequested.Remove(offer.Key);
                    Count(offer.Key, seen: 0, offered: -1, requested: 0);
                }
                else
                {
                    next = Math.Min(next, due);
                }
            }
        }

        _nextUnrequestedExpiry = next;
    }

    private void ExpireUnforwarded(Peer peer, long now)
    {
        if (peer.Unforwarded.Count == 0)
        {
            return;
        }

        foreach (KeyValuePair<int, long> entry in peer.Unforwarded)
        {
            if (now - entry.Value >= _forwardWaitTicks)
            {
                peer.Unforwarded.Remove(entry.Key);
                peer.UnsharedInARow++;
            }
        }
    }

    /// <summary>What the super-seeder knows about one peer.</summary>
    /// <param name="has">The peer's pieces, kept up to date by its session.</param>
    internal sealed class Peer(Bitfield has)
    {
        /// <summary>Gets the peer's pieces.</summary>
        public Bitfield Has { get; } = has;

        /// <summary>Gets the first piece the peer may be offered: the start of its window, or 0.</summary>
        public int WindowStart { get; internal set; }

        /// <summary>Gets the first piece past those the peer may be offered: the end of its window, or the piece count.</summary>
        public int WindowEnd { get; internal set; } = has.Length;

        /// <summary>Gets the pieces offered to the peer and not yet announced by it.</summary>
        public HashSet<int> Offers { get; } = [];

        /// <summary>Gets the offers the peer has not requested that still count against offering them elsewhere, with when made.</summary>
        public Dictionary<int, long> Unrequested { get; } = [];

        /// <summary>Gets the offers the peer requested a block of: on their way to it.</summary>
        public HashSet<int> Requested { get; } = [];

        /// <summary>Gets when the peer last requested a block from us.</summary>
        public long LastRequest { get; internal set; } = long.MinValue;

        /// <summary>Gets a value indicating whether the peer ever requested a block from us.</summary>
        public bool EverRequested { get; internal set; }

        /// <summary>Gets the pieces the peer announced after an offer that no other peer has announced since, with when.</summary>
        public Dictionary<int, long> Unforwarded { get; } = [];

        /// <summary>Gets a value indicating whether the peer holds pieces it has not passed on yet.</summary>
        public bool HoldsUnforwarded => Unforwarded.Count > 0;

        /// <summary>Gets how many of the pieces it announced in a row were not passed on within the forward wait.</summary>
        public int UnsharedInARow { get; internal set; }

        /// <summary>Gets a value indicating whether the peer was opened: every piece is announced to it, none offered.</summary>
        public bool Open { get; internal set; }
    }
}

namespace BlockTorrent.Swarm;

/// <summary>
/// BEP 16 super-seeding for an initial seed: instead of announcing every piece, the seed offers each peer one piece
/// at a time, always the piece fewest peers have or have been offered, so the seed uploads each piece about once and
/// the peers spread it among themselves.
/// </summary>
/// <remarks>
/// A peer gets its next offer once it announces a piece it was offered (it downloaded it). Pieces a peer already has
/// are never offered to it. Not thread-safe: the swarm serialises calls.
/// </remarks>
internal sealed class SuperSeeder
{
    private readonly int[] _seen;
    private readonly int[] _offered;
    private readonly Random _random;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="pieceCount">The number of pieces.</param>
    /// <param name="random">Breaks ties.</param>
    public SuperSeeder(int pieceCount, Random? random = null)
    {
        _seen = new int[pieceCount];
        _offered = new int[pieceCount];
        _random = random ?? Random.Shared;
    }

    /// <summary>Gets how many peers a piece is offered to and have not announced it yet.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns>The count.</returns>
    public int OfferedCount(int piece) => _offered[piece];

    /// <summary>Counts a peer's pieces (its bitfield) as seen.</summary>
    /// <param name="has">The peer's pieces.</param>
    public void AddPeer(Bitfield has)
    {
        ArgumentNullException.ThrowIfNull(has);
        foreach (int piece in has.SetIndices())
        {
            _seen[piece]++;
        }
    }

    /// <summary>Forgets a peer that left: its pieces and its open offers.</summary>
    /// <param name="has">The peer's pieces.</param>
    /// <param name="offers">The pieces offered to it and not yet announced by it.</param>
    public void RemovePeer(Bitfield has, IEnumerable<int> offers)
    {
        ArgumentNullException.ThrowIfNull(has);
        ArgumentNullException.ThrowIfNull(offers);
        foreach (int piece in has.SetIndices())
        {
            _seen[piece]--;
        }

        foreach (int piece in offers)
        {
            _offered[piece]--;
        }
    }

    /// <summary>Records a peer's have message.</summary>
    /// <param name="piece">The piece it announced.</param>
    /// <param name="wasOffered">Whether that piece was offered to that peer (the offer is now fulfilled).</param>
    public void PeerHave(int piece, bool wasOffered)
    {
        _seen[piece]++;
        if (wasOffered)
        {
            _offered[piece]--;
        }
    }

    /// <summary>Chooses the next piece to offer a peer: the least seen and offered piece it lacks, at random among equals.</summary>
    /// <param name="peerHas">The peer's pieces.</param>
    /// <param name="offers">The pieces already offered to it.</param>
    /// <returns>The piece (recorded as offered), or -1 when the peer lacks nothing we have not offered it.</returns>
    public int NextOffer(Bitfield peerHas, IReadOnlySet<int> offers)
    {
        ArgumentNullException.ThrowIfNull(peerHas);
        ArgumentNullException.ThrowIfNull(offers);
        int best = -1;
        int bestScore = int.MaxValue;
        int ties = 0;
        for (int piece = 0; piece < _seen.Length; piece++)
        {
            if (peerHas[piece] || offers.Contains(piece))
            {
                continue;
            }

            int score = _seen[piece] + _offered[piece];
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

        if (best >= 0)
        {
            _offered[best]++;
        }

        return best;
    }
}

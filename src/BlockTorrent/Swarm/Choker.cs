namespace BlockTorrent.Swarm;

/// <summary>
/// Decides which peers we upload to. <see cref="ChokingPolicy.UnchokeAll"/> unchokes every interested peer (the LAN
/// default); <see cref="ChokingPolicy.TitForTat"/> keeps the best reciprocating peers plus one rotating optimistic
/// unchoke. Either way at most <see cref="MaxUploads"/> peers are unchoked (0 means no limit).
/// </summary>
/// <remarks>Stateless apart from the optimistic unchoke; the swarm calls <see cref="Decide{T}"/> every ten seconds or so and when peers come or go.</remarks>
internal sealed class Choker
{
    private readonly Random _random;
    private object? _optimistic;
    private long _optimisticSince = long.MinValue;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="mode">The choking algorithm.</param>
    /// <param name="maxUploads">The most peers unchoked at once; 0 for no limit.</param>
    /// <param name="optimisticInterval">How long an optimistic unchoke lasts, in timestamp ticks.</param>
    /// <param name="random">Chooses the optimistic peer.</param>
    public Choker(ChokingPolicy mode, int maxUploads, long optimisticInterval, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxUploads);
        Mode = mode;
        MaxUploads = maxUploads;
        OptimisticInterval = optimisticInterval;
        _random = random ?? Random.Shared;
    }

    /// <summary>Gets the choking algorithm.</summary>
    public ChokingPolicy Mode { get; }

    /// <summary>Gets the most peers unchoked at once (0: no limit).</summary>
    public int MaxUploads { get; }

    /// <summary>Gets how long an optimistic unchoke lasts, in timestamp ticks.</summary>
    public long OptimisticInterval { get; }

    /// <summary>Sets <see cref="IChokeable.Unchoked"/> on every peer.</summary>
    /// <typeparam name="T">The peer type.</typeparam>
    /// <param name="peers">Every connected peer.</param>
    /// <param name="seeding">Whether we are seeding (rank by what peers take, not what they give).</param>
    /// <param name="now">The current timestamp.</param>
    public void Decide<T>(IReadOnlyList<T> peers, bool seeding, long now)
        where T : class, IChokeable
    {
        ArgumentNullException.ThrowIfNull(peers);
        var interested = new List<T>(peers.Count);
        foreach (T peer in peers)
        {
            peer.Unchoked = false;
            if (peer.IsInterested)
            {
                interested.Add(peer);
            }
        }

        int limit = MaxUploads == 0 ? int.MaxValue : MaxUploads;
        if (Mode == ChokingPolicy.UnchokeAll && interested.Count <= limit)
        {
            foreach (T peer in interested)
            {
                peer.Unchoked = true;
            }

            return;
        }

        // Best reciprocators first; ties keep a stable order so decisions do not flap.
        interested.Sort((a, b) => (seeding ? b.UploadRate.CompareTo(a.UploadRate) : b.DownloadRate.CompareTo(a.DownloadRate)));
        int regular = Mode == ChokingPolicy.TitForTat ? Math.Max(0, Math.Min(limit, interested.Count) - 1) : Math.Min(limit, interested.Count);
        for (int i = 0; i < regular; i++)
        {
            interested[i].Unchoked = true;
        }

        if (Mode != ChokingPolicy.TitForTat || regular >= interested.Count || regular >= limit)
        {
            return;
        }

        T? optimistic = null;
        if (_optimistic is T current && now - _optimisticSince < OptimisticInterval && interested.Contains(current) && !current.Unchoked)
        {
            optimistic = current;
        }
        else
        {
            int left = interested.Count - regular;
            optimistic = interested[regular + _random.Next(left)];
            _optimistic = optimistic;
            _optimisticSince = now;
        }

        optimistic.Unchoked = true;
    }
}

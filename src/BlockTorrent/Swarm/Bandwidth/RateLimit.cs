namespace BlockTorrent.Swarm.Bandwidth;

/// <summary>
/// The limits one direction of a swarm's traffic obeys: the client's bucket, shared by all its swarms, and the
/// swarm's own (a depot's per-image cap), either or both absent. Bytes are taken from every bucket, and the caller
/// waits for the slowest.
/// </summary>
internal sealed class RateLimit
{
    /// <summary>No limit.</summary>
    public static readonly RateLimit None = new(null, null);

    private readonly TokenBucket[] _buckets;

    /// <summary>Initializes a new instance from the buckets that apply.</summary>
    /// <param name="shared">The client's bucket, or null.</param>
    /// <param name="own">The swarm's own bucket, or null.</param>
    public RateLimit(TokenBucket? shared, TokenBucket? own)
    {
        _buckets = [.. new[] { shared, own }.OfType<TokenBucket>()];
    }

    /// <summary>Gets a value indicating whether any bucket applies.</summary>
    public bool IsLimited => _buckets.Length > 0;

    /// <summary>Gets the bytes that may be taken now without waiting (negative while in debt).</summary>
    public double Available
    {
        get
        {
            double available = double.PositiveInfinity;
            foreach (TokenBucket bucket in _buckets)
            {
                available = Math.Min(available, bucket.Available);
            }

            return available;
        }
    }

    /// <summary>Takes bytes from every bucket (<see cref="TokenBucket.Take"/>).</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>How long the caller waits before the bytes may move.</returns>
    public TimeSpan Take(long bytes)
    {
        TimeSpan wait = TimeSpan.Zero;
        foreach (TokenBucket bucket in _buckets)
        {
            TimeSpan w = bucket.Take(bytes);
            if (w > wait)
            {
                wait = w;
            }
        }

        return wait;
    }

    /// <summary>Gives bytes back to every bucket (<see cref="TokenBucket.Refund"/>).</summary>
    /// <param name="bytes">The bytes taken before for something that will not move.</param>
    public void Refund(long bytes)
    {
        foreach (TokenBucket bucket in _buckets)
        {
            bucket.Refund(bytes);
        }
    }

    /// <summary>Gets how long until <paramref name="bytes"/> may be taken from every bucket without waiting.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>The time.</returns>
    public TimeSpan TimeUntil(long bytes)
    {
        TimeSpan wait = TimeSpan.Zero;
        foreach (TokenBucket bucket in _buckets)
        {
            TimeSpan w = bucket.TimeUntil(bytes);
            if (w > wait)
            {
                wait = w;
            }
        }

        return wait;
    }

    /// <summary>Makes the limit for a rate, none for 0.</summary>
    /// <param name="shared">The client's bucket, or null.</param>
    /// <param name="ownBytesPerSecond">The swarm's own cap, 0 for none.</param>
    /// <param name="time">The clock.</param>
    /// <returns>The limit.</returns>
    public static RateLimit For(TokenBucket? shared, long ownBytesPerSecond, TimeProvider time)
    {
        TokenBucket? own = ownBytesPerSecond > 0 ? new TokenBucket(ownBytesPerSecond, time) : null;
        return shared is null && own is null ? None : new RateLimit(shared, own);
    }
}

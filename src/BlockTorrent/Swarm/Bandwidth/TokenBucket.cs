namespace BlockTorrent.Swarm.Bandwidth;

/// <summary>
/// A token bucket of bytes, shared by every connection it limits: it fills at <see cref="Rate"/> up to
/// <see cref="Capacity"/>, and a take that finds too few goes into debt and tells the caller how long to wait before
/// sending (or asking for) those bytes, so callers queue behind one another in the order they took.
/// </summary>
/// <remarks>
/// Invariant: over any interval in which callers keep it in use, the bytes taken are at most
/// <see cref="Capacity"/> + <see cref="Rate"/> × the interval + what was taken but is still waiting (the debt), so
/// the rate callers achieve once they honour the waits converges on <see cref="Rate"/>. The bucket starts full;
/// tokens accumulate only while nobody takes, so the burst allowance matters at the start and after idle spells.
/// </remarks>
internal sealed class TokenBucket
{
    /// <summary>The least a bucket holds when full: a few blocks, so one request or block never waits on itself.</summary>
    public const int MinimumCapacity = 64 * 1024;

    /// <summary>How much of a second's worth of bytes a full bucket holds, when that is above <see cref="MinimumCapacity"/>.</summary>
    public const double BurstSeconds = 0.1;

    private readonly Lock _sync = new();
    private readonly TimeProvider _time;
    private readonly double _perTick;
    private double _tokens;
    private long _last;

    /// <summary>Initializes a new, full bucket.</summary>
    /// <param name="bytesPerSecond">The rate, more than zero.</param>
    /// <param name="time">The clock.</param>
    public TokenBucket(long bytesPerSecond, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bytesPerSecond);
        ArgumentNullException.ThrowIfNull(time);
        Rate = bytesPerSecond;
        Capacity = Math.Max(MinimumCapacity, Math.Floor(bytesPerSecond * BurstSeconds));
        _time = time;
        _perTick = bytesPerSecond / (double)time.TimestampFrequency;
        _tokens = Capacity;
        _last = time.GetTimestamp();
    }

    /// <summary>Gets the rate in bytes per second.</summary>
    public long Rate { get; }

    /// <summary>Gets the most bytes the bucket holds.</summary>
    public double Capacity { get; }

    /// <summary>Gets the bytes that may be taken now without waiting; negative while in debt.</summary>
    public double Available
    {
        get
        {
            lock (_sync)
            {
                Refill();
                return _tokens;
            }
        }
    }

    /// <summary>Takes bytes now, going into debt when the bucket holds fewer.</summary>
    /// <param name="bytes">The bytes about to be sent or asked for.</param>
    /// <returns>How long the caller waits before the bytes may move: zero when the bucket held them.</returns>
    public TimeSpan Take(long bytes)
    {
        lock (_sync)
        {
            Refill();
            _tokens -= bytes;
            return _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / Rate);
        }
    }

    /// <summary>
    /// Gives back bytes taken for something that will not move (a request the peer rejected), up to the capacity: a
    /// full bucket stays full, so a refund never allows a burst beyond what an idle spell would.
    /// </summary>
    /// <param name="bytes">The bytes taken before.</param>
    public void Refund(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (_sync)
        {
            Refill();
            _tokens = Math.Min(Capacity, _tokens + bytes);
        }
    }

    /// <summary>Gets how long until <paramref name="bytes"/> may be taken without waiting.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>The time, zero when they may be taken now.</returns>
    public TimeSpan TimeUntil(long bytes)
    {
        lock (_sync)
        {
            Refill();
            double deficit = Math.Min(bytes, Capacity) - _tokens;
            return deficit <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(deficit / Rate);
        }
    }

    private void Refill()
    {
        long now = _time.GetTimestamp();
        if (now > _last)
        {
            _tokens = Math.Min(Capacity, _tokens + ((now - _last) * _perTick));
            _last = now;
        }
    }
}

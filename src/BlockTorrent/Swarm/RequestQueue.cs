namespace BlockTorrent.Swarm;

/// <summary>
/// Sizes one peer's request pipeline: enough outstanding 16 KiB requests to cover the peer's rate times the
/// request queue time (rate × effective RTT), so a fast LAN seed is never left idle between requests.
/// </summary>
/// <remarks>
/// <para>
/// Depth = clamp(rate × max(<see cref="QueueTime"/>, 2 × <see cref="RoundTrip"/>) ÷ 16 KiB, <see cref="MinDepth"/>,
/// min(<see cref="MaxDepth"/>, the peer's <c>reqq</c>)). The rate is a moving average over roughly a second of
/// received payload.
/// </para>
/// <para>
/// The round-trip floor keeps a distant peer from starving: with the queue time alone, a peer whose round trip is
/// longer delivers only depth ÷ round trip, which sizes the next depth smaller still, window after window, down to
/// the minimum. Covering twice the round trip lets a latency-bound pipeline double each window until the link, not
/// the pipeline, sets the rate.
/// </para>
/// <para>
/// Slow start: a fresh peer has no rate yet, so the depth grows by one for every block received (doubling per
/// round trip) until a measurement window shows the rate no longer growing; then the rate formula takes over.
/// </para>
/// </remarks>
internal sealed class RequestQueue
{
    private const double WindowSeconds = 1.0;

    private long _windowStart;
    private long _windowBytes;
    private double _rate;
    private double _lastWindowRate;
    private int _slowStartDepth;
    private bool _slowStart = true;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="minDepth">The fewest outstanding requests.</param>
    /// <param name="maxDepth">The most outstanding requests (our cap).</param>
    /// <param name="queueTime">The seconds of transfer the queue should cover.</param>
    /// <param name="now">The current time in <see cref="TimeProvider"/> timestamp units.</param>
    /// <param name="timestampFrequency">Timestamp ticks per second.</param>
    public RequestQueue(int minDepth, int maxDepth, TimeSpan queueTime, long now, long timestampFrequency)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minDepth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDepth, minDepth);
        MinDepth = minDepth;
        MaxDepth = maxDepth;
        PeerLimit = maxDepth;
        QueueTime = queueTime;
        Frequency = timestampFrequency;
        _windowStart = now;
        _slowStartDepth = minDepth;
    }

    /// <summary>Gets the fewest outstanding requests.</summary>
    public int MinDepth { get; }

    /// <summary>Gets our cap on outstanding requests.</summary>
    public int MaxDepth { get; }

    /// <summary>Gets or sets the most requests the peer queues (its extended handshake's <c>reqq</c>).</summary>
    public int PeerLimit { get; set; }

    /// <summary>Gets the seconds of transfer the queue covers.</summary>
    public TimeSpan QueueTime { get; }

    /// <summary>Gets the timestamp frequency.</summary>
    public long Frequency { get; }

    /// <summary>
    /// Gets or sets the connection's round-trip time (the kernel's measurement; zero when unknown): the pipeline covers
    /// at least twice it.
    /// </summary>
    public TimeSpan RoundTrip { get; set; }

    /// <summary>Gets the measured download rate from the peer in bytes per second.</summary>
    public double Rate => _rate;

    /// <summary>Gets a value indicating whether the queue is still in slow start.</summary>
    public bool InSlowStart => _slowStart;

    /// <summary>Gets how many requests should be outstanding now.</summary>
    public int Depth
    {
        get
        {
            int upper = Math.Max(1, Math.Min(MaxDepth, PeerLimit));
            int lower = Math.Min(MinDepth, upper);
            double wanted = _slowStart
                ? Math.Max(_slowStartDepth, RateDepth())
                : RateDepth();
            return (int)Math.Clamp(wanted, lower, upper);
        }
    }

    /// <summary>Records a received block.</summary>
    /// <param name="bytes">The block length.</param>
    /// <param name="now">The current timestamp.</param>
    public void OnBlockReceived(int bytes, long now)
    {
        _windowBytes += bytes;
        if (_slowStart && _slowStartDepth < MaxDepth)
        {
            _slowStartDepth++;
        }

        Tick(now);
    }

    /// <summary>Closes the measurement window when it has run long enough (call periodically too, so idle peers decay).</summary>
    /// <param name="now">The current timestamp.</param>
    public void Tick(long now)
    {
        double elapsed = (now - _windowStart) / (double)Frequency;
        if (elapsed < WindowSeconds)
        {
            return;
        }

        double windowRate = _windowBytes / elapsed;
        _rate = _rate == 0 ? windowRate : (_rate * 0.5) + (windowRate * 0.5);
        if (_slowStart && _lastWindowRate > 0 && windowRate < _lastWindowRate * 1.1)
        {
            // The rate stopped growing: the pipe is full, so the rate formula is the better guide from here.
            _slowStart = false;
        }

        _lastWindowRate = windowRate;
        _windowStart = now;
        _windowBytes = 0;
    }

    /// <summary>Restarts slow start (the peer was snubbed or choked us and the pipeline drained).</summary>
    public void Reset()
    {
        _slowStart = true;
        _slowStartDepth = MinDepth;
        _lastWindowRate = 0;
    }

    private double RateDepth() => _rate * Math.Max(QueueTime.TotalSeconds, 2 * RoundTrip.TotalSeconds) / PiecePicker.BlockSize;
}

namespace BlockTorrent.Swarm;

/// <summary>
/// What one connection did lately, for <see cref="UploadShares"/>: its upload rate, and whether our own side holds it
/// back (it has data waiting and room in its congestion window, so our uplink, not the path beyond it, sets its pace).
/// </summary>
/// <param name="Rate">Its payload upload rate, in bytes per second, smoothed over about a second.</param>
/// <param name="HeldHere">Whether our side holds it back now.</param>
internal readonly record struct UploadShare(double Rate, bool HeldHere);

/// <summary>
/// Evens out a super-seed's upload among its connections, so every peer gets its distinct pieces at about the same
/// pace and every peer's uplink has something to pass on from the start.
/// </summary>
/// <remarks>
/// <para>
/// Without it the kernel decides the shares, and on a plain FIFO network queue (Linux's default, pfifo_fast) it
/// decides them unevenly: a connection with a larger congestion window gets a larger pacing rate, larger segments and
/// more room in the queue, so it keeps a larger share, while the kernel's small-queue limit holds the others back
/// with their congestion windows half empty. The peers it starves have little to pass on, so their uplinks idle
/// while the swarm ramps up.
/// </para>
/// <para>
/// Every <see cref="Interval"/>, when some connection below the even share (our upload rate over the connections
/// uploading) is held back by our side, every connection is paced (Linux's SO_MAX_PACING_RATE) to at most
/// <see cref="Headroom"/> × the even share, never below <see cref="MinimumCap"/>; otherwise nothing is capped. The
/// condition is what makes the cap safe: a connection our side holds back takes whatever a capped one gives up, so
/// our uplink stays full; a connection slowed further along (a slower link, a busy receiver) is not held back here,
/// so it never turns the cap on. Nor does the cap go below <see cref="FillLevel"/>, the level at which the held-back
/// connections, growing by the headroom, make up what the capped ones give up; so the shares even out over a few
/// intervals rather than at once, and our uplink carries as much as before while they do. A connection that looks
/// held back but cannot grow (just under a limit further along) costs up to a quarter of its rate while the cap is
/// on; should the total fall by a tenth all the same, <see cref="CapGuard"/> lifts the cap for a while.
/// </para>
/// </remarks>
internal static class UploadShares
{
    /// <summary>How far above the even share one connection may go while the cap is on.</summary>
    public const double Headroom = 1.25;

    /// <summary>The lowest cap, in bytes per second.</summary>
    public const double MinimumCap = 256 * 1024;

    /// <summary>The weight of the newest interval in a connection's smoothed rate (about a second at 200 ms).</summary>
    public const double Smoothing = 0.3;

    /// <summary>How many intervals a cap runs before <see cref="CapGuard"/> judges what it did to the total.</summary>
    public const int ProofIntervals = 5;

    /// <summary>The part of the total at the cap's start that a cap must keep.</summary>
    public const double KeptFraction = 0.9;

    /// <summary>How many intervals a cap that cost upload stays lifted.</summary>
    public const int LiftedIntervals = 25;

    /// <summary>How often the shares are measured and the caps set.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    /// <summary>Computes the pacing cap every connection gets for the next interval.</summary>
    /// <param name="shares">What each connection did lately.</param>
    /// <param name="total">The total upload rate (the sum of the connections' rates).</param>
    /// <returns>The cap in bytes per second, or <see cref="double.PositiveInfinity"/> for none.</returns>
    public static double Cap(ReadOnlySpan<UploadShare> shares, out double total)
    {
        int uploading = 0;
        total = 0;
        foreach (UploadShare share in shares)
        {
            if (share.Rate > 0)
            {
                uploading++;
                total += share.Rate;
            }
        }

        if (uploading < 2)
        {
            return double.PositiveInfinity;
        }

        double even = total / uploading;
        foreach (UploadShare share in shares)
        {
            if (share.HeldHere && share.Rate < even)
            {
                return Math.Max(MinimumCap, Math.Max(Headroom * even, FillLevel(shares, total)));
            }
        }

        return double.PositiveInfinity;
    }

    /// <summary>
    /// The lowest cap that still adds up to the total: the level L at which the connections, each capped at L, upload
    /// <paramref name="total"/> between them when those not held back here stay at their rates and those held back
    /// grow by <see cref="Headroom"/> (what one interval lets them take, whatever limits them further along).
    /// </summary>
    /// <param name="shares">What each connection did lately.</param>
    /// <param name="total">The total upload rate.</param>
    /// <returns>The level in bytes per second.</returns>
    internal static double FillLevel(ReadOnlySpan<UploadShare> shares, double total)
    {
        double low = 0;
        double high = total;
        for (int i = 0; i < 48; i++)
        {
            double level = (low + high) / 2;
            double sum = 0;
            foreach (UploadShare share in shares)
            {
                sum += Math.Min(share.HeldHere ? Headroom * share.Rate : share.Rate, level);
            }

            if (sum >= total)
            {
                high = level;
            }
            else
            {
                low = level;
            }
        }

        return high;
    }
}

/// <summary>
/// Lifts a cap that costs upload. The cap assumes the connections our side holds back take up what the capped ones give
/// up; if a snapshot took a connection for held back that cannot grow (just under a limit further along), the total
/// falls instead. Once a cap has been on for <see cref="UploadShares.ProofIntervals"/> intervals, a total under
/// <see cref="UploadShares.KeptFraction"/> of what it was when the cap went on lifts it for
/// <see cref="UploadShares.LiftedIntervals"/> intervals.
/// </summary>
internal struct CapGuard
{
    private double _from;
    private int _intervals;
    private int _lifted;

    /// <summary>Computes the next interval's cap (<see cref="UploadShares.Cap"/>), unless the guard lifts it.</summary>
    /// <param name="shares">What each connection did lately.</param>
    /// <returns>The cap to set, or <see cref="double.PositiveInfinity"/> for none.</returns>
    public double Next(ReadOnlySpan<UploadShare> shares)
    {
        double cap = UploadShares.Cap(shares, out double total);
        return Apply(cap, total);
    }

    /// <summary>Passes on or lifts the next interval's cap.</summary>
    /// <param name="cap">The cap <see cref="UploadShares.Cap"/> computed.</param>
    /// <param name="total">The total upload rate now (the sum of the smoothed rates).</param>
    /// <returns>The cap to set, or <see cref="double.PositiveInfinity"/> for none.</returns>
    public double Apply(double cap, double total)
    {
        if (_lifted > 0)
        {
            _lifted--;
            return double.PositiveInfinity;
        }

        if (double.IsPositiveInfinity(cap))
        {
            _from = 0;
            return cap;
        }

        if (_from == 0)
        {
            _from = total;
            _intervals = 0;
        }
        else if (++_intervals >= UploadShares.ProofIntervals && total < _from * UploadShares.KeptFraction)
        {
            _from = 0;
            _lifted = UploadShares.LiftedIntervals;
            return double.PositiveInfinity;
        }

        return cap;
    }
}

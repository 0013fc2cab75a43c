namespace BlockTorrent.Devices.Linux;

/// <summary>
/// Serializes read-modify-write of partial sectors. Two concurrent, non-overlapping unaligned writes may share a
/// sector (one ends in it, the other starts in it); without a lock each would read the old sector, patch its own
/// bytes and write the sector back, and the later write would undo the earlier. Aligned writes never share a sector
/// with another write (they cover whole sectors and ranges do not overlap), so only read-modify-write takes these.
/// </summary>
internal sealed class SectorLocks
{
    // Striped: a fixed number of lock objects chosen by sector number keeps memory constant. Two sectors may map to
    // the same stripe; that only costs some needless waiting.
    private const int StripeCount = 64;
    private readonly object[] _stripes;

    public SectorLocks()
    {
        _stripes = new object[StripeCount];
        for (int i = 0; i < _stripes.Length; i++)
        {
            _stripes[i] = new object();
        }
    }

    /// <summary>Locks the stripes of up to two sectors, always in stripe order so that two callers cannot deadlock.</summary>
    /// <param name="first">A sector to lock, or -1 for none.</param>
    /// <param name="second">Another sector to lock, or -1 for none.</param>
    /// <returns>A scope that releases the locks.</returns>
    public Scope Enter(long first, long second)
    {
        int a = first >= 0 ? StripeOf(first) : -1;
        int b = second >= 0 ? StripeOf(second) : -1;
        if (a == b)
        {
            b = -1;
        }

        if (a > b)
        {
            (a, b) = (b, a);
        }

        object? low = a >= 0 ? _stripes[a] : null;
        object? high = b >= 0 ? _stripes[b] : null;
        if (low is not null)
        {
            Monitor.Enter(low);
        }

        if (high is not null)
        {
            Monitor.Enter(high);
        }

        return new Scope(low, high);
    }

    private static int StripeOf(long sector) => (int)((ulong)sector % StripeCount);

    /// <summary>Holds up to two stripe locks until disposed.</summary>
    public readonly struct Scope : IDisposable
    {
        private readonly object? _low;
        private readonly object? _high;

        public Scope(object? low, object? high)
        {
            _low = low;
            _high = high;
        }

        public void Dispose()
        {
            if (_high is not null)
            {
                Monitor.Exit(_high);
            }

            if (_low is not null)
            {
                Monitor.Exit(_low);
            }
        }
    }
}

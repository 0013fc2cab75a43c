using System.Net;

namespace BlockTorrent.Discovery;

/// <summary>
/// What the embedded tracker allows each source address: a few connections at once, and requests at a steady rate
/// with a burst (a token bucket), so one host on the LAN can neither hold every connection slot nor flood the
/// tracker while others are served. Bounded in addresses: idle ones are forgotten by <see cref="Sweep"/>, and when
/// the table is full of busy ones a new address is turned away. Thread-safe.
/// </summary>
internal sealed class TrackerAdmission
{
    /// <summary>The most addresses remembered at once.</summary>
    public const int MaxAddresses = 16_384;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, Entry> _entries = [];
    private readonly int _maxConnections;
    private readonly double _burst;
    private readonly double _perSecond;
    private readonly TimeProvider _time;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="maxConnections">The most connections served at once from one address.</param>
    /// <param name="burst">The most requests one address may make at once after a quiet spell.</param>
    /// <param name="perSecond">The requests per second one address may make in the long run.</param>
    /// <param name="time">The clock.</param>
    public TrackerAdmission(int maxConnections, int burst, double perSecond, TimeProvider time)
    {
        _maxConnections = maxConnections;
        _burst = burst;
        _perSecond = perSecond;
        _time = time;
    }

    /// <summary>Gets the number of addresses remembered.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Admits a connection from <paramref name="address"/> unless it already has its most at once.</summary>
    /// <param name="address">The source address.</param>
    /// <returns><see langword="true"/> when admitted; <see cref="Leave"/> must follow.</returns>
    public bool TryEnter(IPAddress address)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(address, out Entry? entry))
            {
                if (_entries.Count >= MaxAddresses)
                {
                    SweepLocked();
                    if (_entries.Count >= MaxAddresses)
                    {
                        return false;
                    }
                }

                entry = new Entry(_burst, _time.GetTimestamp());
                _entries.Add(address, entry);
            }

            if (entry.Connections >= _maxConnections)
            {
                return false;
            }

            entry.Connections++;
            return true;
        }
    }

    /// <summary>Ends a connection <see cref="TryEnter"/> admitted.</summary>
    /// <param name="address">The source address.</param>
    public void Leave(IPAddress address)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(address, out Entry? entry))
            {
                entry.Connections--;
            }
        }
    }

    /// <summary>Takes one request from the address's allowance.</summary>
    /// <param name="address">The source address (admitted by <see cref="TryEnter"/>).</param>
    /// <returns><see langword="false"/> when the address asks faster than it may.</returns>
    public bool TryTakeRequest(IPAddress address)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(address, out Entry? entry))
            {
                return false;
            }

            Refill(entry);
            if (entry.Tokens < 1)
            {
                return false;
            }

            entry.Tokens--;
            return true;
        }
    }

    /// <summary>Forgets the addresses with no connection and a full allowance: they are as if never seen.</summary>
    public void Sweep()
    {
        lock (_lock)
        {
            SweepLocked();
        }
    }

    private void SweepLocked()
    {
        foreach ((IPAddress address, Entry entry) in _entries.ToArray())
        {
            Refill(entry);
            if (entry.Connections == 0 && entry.Tokens >= _burst)
            {
                _entries.Remove(address);
            }
        }
    }

    private void Refill(Entry entry)
    {
        long now = _time.GetTimestamp();
        entry.Tokens = Math.Min(_burst, entry.Tokens + (_time.GetElapsedTime(entry.Stamp, now).TotalSeconds * _perSecond));
        entry.Stamp = now;
    }

    private sealed class Entry(double tokens, long stamp)
    {
        public int Connections { get; set; }

        public double Tokens { get; set; } = tokens;

        public long Stamp { get; set; } = stamp;
    }
}

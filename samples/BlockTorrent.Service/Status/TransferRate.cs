namespace BlockTorrent.Service.Status;

/// <summary>
/// The rate of a growing byte counter over the last couple of seconds: the oldest of the recent samples against the
/// newest, so a report every quarter second gives a steady figure. Not thread-safe; the owner locks.
/// </summary>
internal sealed class TransferRate
{
    private const int Window = 9;
    private readonly (long Timestamp, long Bytes)[] _samples = new (long, long)[Window];
    private readonly TimeProvider _time;
    private int _count;
    private int _next;

    public TransferRate(TimeProvider time)
    {
        _time = time;
    }

    /// <summary>Gets the rate in bytes per second at the last sample.</summary>
    public double BytesPerSecond { get; private set; }

    /// <summary>Records the counter's current value.</summary>
    public void Sample(long totalBytes)
    {
        long now = _time.GetTimestamp();
        _samples[_next] = (now, totalBytes);
        _next = (_next + 1) % Window;
        _count = Math.Min(_count + 1, Window);
        (long oldTime, long oldBytes) = _samples[_count < Window ? 0 : _next];
        double seconds = _time.GetElapsedTime(oldTime, now).TotalSeconds;
        BytesPerSecond = seconds <= 0 ? 0 : Math.Max(0, totalBytes - oldBytes) / seconds;
    }
}

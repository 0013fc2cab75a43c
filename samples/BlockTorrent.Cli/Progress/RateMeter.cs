namespace BlockTorrent.Cli.Progress;

/// <summary>
/// Turns a cumulative byte counter into a rate, smoothed over the last few seconds so the display does not jump
/// with every burst.
/// </summary>
internal sealed class RateMeter
{
    private const double SmoothingSeconds = 3;
    private readonly TimeProvider _time;
    private long _lastBytes;
    private long _lastTimestamp;
    private bool _started;

    public RateMeter(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Gets the smoothed rate in bytes per second.</summary>
    public double Rate { get; private set; }

    /// <summary>Feeds the counter's current value and returns the smoothed rate.</summary>
    /// <param name="totalBytes">The counter, which only grows.</param>
    /// <returns>The rate in bytes per second.</returns>
    public double Sample(long totalBytes)
    {
        long now = _time.GetTimestamp();
        if (!_started)
        {
            _started = true;
            _lastBytes = totalBytes;
            _lastTimestamp = now;
            return Rate;
        }

        double seconds = _time.GetElapsedTime(_lastTimestamp, now).TotalSeconds;
        if (seconds < 0.05)
        {
            return Rate;
        }

        double instant = Math.Max(0, totalBytes - _lastBytes) / seconds;
        double weight = Math.Min(1, seconds / SmoothingSeconds);
        Rate += (instant - Rate) * weight;
        _lastBytes = totalBytes;
        _lastTimestamp = now;
        return Rate;
    }
}

namespace BlockTorrent.Cli.Progress;

/// <summary>Lets an update through at most once per interval; the first always passes.</summary>
internal sealed class UpdateThrottle(TimeSpan interval, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private long _last;
    private bool _any;

    public TimeProvider Time => _time;

    /// <summary>Returns <see langword="true"/> (and starts a new interval) when an update may be shown now.</summary>
    public bool TryPass()
    {
        long now = _time.GetTimestamp();
        if (_any && _time.GetElapsedTime(_last, now) < interval)
        {
            return false;
        }

        _any = true;
        _last = now;
        return true;
    }
}

using System.Diagnostics;
using BlockTorrent.Devices;
using BlockTorrent.Testing;

namespace BlockTorrent.Benchmarks.Devices;

/// <summary>
/// Passes every call to a device and records when each write and flush started and ended, to show where the writer's
/// time goes: how busy the device was kept, how large and how concurrent the writes were, how long the flushes took.
/// Costs two timestamps and a lock per device call (a few hundred calls per GiB).
/// </summary>
internal sealed class TimedDevice(IBlockDevice inner) : PassThroughDevice(inner)
{
    private readonly Lock _sync = new();
    private readonly List<(long Start, long End, long Bytes)> _writes = new(4096);
    private readonly List<(long Start, long End)> _flushes = [];
    private int _inFlight;
    private int _maxInFlight;

    public override async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        long start = Begin();
        await Inner.WriteAsync(offset, data, cancellationToken).ConfigureAwait(false);
        End(start, data.Length);
    }

    public override async ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
    {
        long bytes = 0;
        for (int i = 0; i < buffers.Count; i++)
        {
            bytes += buffers[i].Length;
        }

        long start = Begin();
        await Inner.WriteGatherAsync(offset, buffers, cancellationToken).ConfigureAwait(false);
        End(start, bytes);
    }

    public override async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        long start = Stopwatch.GetTimestamp();
        await Inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        lock (_sync)
        {
            _flushes.Add((start, Stopwatch.GetTimestamp()));
        }
    }

    // The benchmark disposes the device it wrapped.
    public override ValueTask DisposeAsync() => default;

    /// <summary>Summarises the calls between <paramref name="from"/> and <paramref name="to"/> (timestamps).</summary>
    public string Describe(long from, long to)
    {
        lock (_sync)
        {
            double window = Stopwatch.GetElapsedTime(from, to).TotalSeconds;
            long bytes = _writes.Sum(w => w.Bytes);
            double busy = Union(_writes.Select(w => (w.Start, w.End)));
            double flushing = Union(_flushes);
            double firstWrite = _writes.Count == 0 ? 0 : Stopwatch.GetElapsedTime(from, _writes.Min(w => w.Start)).TotalSeconds;
            double lastWrite = _writes.Count == 0 ? 0 : Stopwatch.GetElapsedTime(from, _writes.Max(w => w.End)).TotalSeconds;
            return FormattableString.Invariant(
                $"{_writes.Count} writes of {bytes / Math.Max(1, _writes.Count) / (double)(1 << 20):F1} MiB avg, at most {_maxInFlight} at once; writes in flight {busy / window:P0} of the time (first starts at {firstWrite:F2} s, last ends at {lastWrite:F2} s of {window:F2} s); {_flushes.Count} flushes, {flushing:F2} s");
        }
    }

    private long Begin()
    {
        lock (_sync)
        {
            _maxInFlight = Math.Max(_maxInFlight, ++_inFlight);
        }

        return Stopwatch.GetTimestamp();
    }

    private void End(long start, long bytes)
    {
        long end = Stopwatch.GetTimestamp();
        lock (_sync)
        {
            _inFlight--;
            _writes.Add((start, end, bytes));
        }
    }

    // Seconds covered by at least one interval.
    private static double Union(IEnumerable<(long Start, long End)> intervals)
    {
        long covered = 0;
        long reach = long.MinValue;
        foreach (var (start, end) in intervals.OrderBy(i => i.Start))
        {
            if (start > reach)
            {
                covered += end - start;
                reach = end;
            }
            else if (end > reach)
            {
                covered += end - reach;
                reach = end;
            }
        }

        return covered / (double)Stopwatch.Frequency;
    }
}

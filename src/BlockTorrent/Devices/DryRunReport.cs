using System.Globalization;
using System.Text;

namespace BlockTorrent.Devices;

/// <summary>
/// What a dry run would have written: the ranges, merged where they touch and are of the same kind, in device
/// order, and the totals. Thread-safe; memory grows with the number of separate ranges, not with the bytes.
/// </summary>
public sealed class DryRunReport
{
    private readonly Lock _lock = new();
    private readonly SortedList<long, DryRunExtent> _extents = [];
    private long _bytesWritten;
    private long _bytesZeroed;
    private long _bytesDiscarded;

    internal DryRunReport(string deviceName)
    {
        DeviceName = deviceName;
    }

    /// <summary>Gets the device the dry run was made on.</summary>
    public string DeviceName { get; }

    /// <summary>Gets the number of bytes that would have been written with data.</summary>
    public long BytesWritten => Interlocked.Read(ref _bytesWritten);

    /// <summary>Gets the number of bytes that would have been zeroed without data.</summary>
    public long BytesZeroed => Interlocked.Read(ref _bytesZeroed);

    /// <summary>Gets the number of bytes that would have been discarded.</summary>
    public long BytesDiscarded => Interlocked.Read(ref _bytesDiscarded);

    /// <summary>Gets a snapshot of the ranges that would have changed, in device order.</summary>
    public IReadOnlyList<DryRunExtent> Extents
    {
        get
        {
            lock (_lock)
            {
                return [.. _extents.Values];
            }
        }
    }

    /// <summary>Describes the dry run for an operator: the totals, then one line per range.</summary>
    /// <returns>The description.</returns>
    public override string ToString()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"Dry run on '{DeviceName}': would write {BytesWritten} bytes, zero {BytesZeroed} bytes, discard {BytesDiscarded} bytes.");
        foreach (var extent in Extents)
        {
            text.AppendLine();
            text.Append(CultureInfo.InvariantCulture, $"  {extent.Operation,-9} offset {extent.Offset,15} length {extent.Length,15}");
        }

        return text.ToString();
    }

    internal void Record(long offset, long length, DryRunOperation operation)
    {
        if (length == 0)
        {
            return;
        }

        switch (operation)
        {
            case DryRunOperation.Write: Interlocked.Add(ref _bytesWritten, length); break;
            case DryRunOperation.ZeroRange: Interlocked.Add(ref _bytesZeroed, length); break;
            default: Interlocked.Add(ref _bytesDiscarded, length); break;
        }

        lock (_lock)
        {
            var merged = new DryRunExtent(offset, length, operation);

            // Merge with the extent before it when it ends exactly where this one starts and does the same.
            int index = LowerIndex(offset);
            if (index >= 0)
            {
                var before = _extents.Values[index];
                if (before.Operation == operation && before.Offset + before.Length == offset)
                {
                    merged = merged with { Offset = before.Offset, Length = before.Length + length };
                    _extents.RemoveAt(index);
                }
            }

            // And with the one after it.
            long end = merged.Offset + merged.Length;
            if (_extents.TryGetValue(end, out var after) && after.Operation == operation)
            {
                merged = merged with { Length = merged.Length + after.Length };
                _extents.Remove(end);
            }

            _extents[merged.Offset] = merged;
        }
    }

    // The index of the last extent starting before offset, or -1.
    private int LowerIndex(long offset)
    {
        IList<long> keys = _extents.Keys;
        int low = 0;
        int high = keys.Count - 1;
        int found = -1;
        while (low <= high)
        {
            int mid = low + ((high - low) / 2);
            if (keys[mid] < offset)
            {
                found = mid;
                low = mid + 1;
            }
            else
            {
                high = mid - 1;
            }
        }

        return found;
    }
}

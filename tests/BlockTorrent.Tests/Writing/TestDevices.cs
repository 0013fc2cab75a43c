using BlockTorrent.Devices;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Writing;

/// <summary>
/// A device that passes calls to an inner one, with hooks a test sets to fail, hold or drop writes.
/// It counts zero-range and discard calls, which <see cref="MemoryBlockDevice"/> does not.
/// </summary>
internal sealed class InterceptingDevice(IBlockDevice inner) : PassThroughDevice(inner)
{
    private int _writes;
    private int _flushes;

    /// <summary>Gets or sets a hook run before every write with its 1-based number and offset; it may throw or wait.</summary>
    public Func<int, long, CancellationToken, Task>? BeforeWrite { get; set; }

    /// <summary>Gets or sets a predicate choosing writes to drop silently (a device that loses data).</summary>
    public Func<long, bool>? DropWrite { get; set; }

    /// <summary>Gets or sets a hook run before every flush with its 1-based number; it may throw or wait.</summary>
    public Func<int, CancellationToken, Task>? BeforeFlush { get; set; }

    public int ZeroRangeCalls { get; private set; }

    public int DiscardCalls { get; private set; }

    public int Writes => Volatile.Read(ref _writes);

    public int Flushes => Volatile.Read(ref _flushes);

    public override async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await BeforeAsync(offset, cancellationToken);
        if (DropWrite?.Invoke(offset) != true)
        {
            await Inner.WriteAsync(offset, data, cancellationToken);
        }
    }

    public override async ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
    {
        await BeforeAsync(offset, cancellationToken);
        if (DropWrite?.Invoke(offset) != true)
        {
            await Inner.WriteGatherAsync(offset, buffers, cancellationToken);
        }
    }

    public override async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        int number = Interlocked.Increment(ref _flushes);
        if (BeforeFlush is not null)
        {
            await BeforeFlush(number, cancellationToken);
        }

        await Inner.FlushAsync(cancellationToken);
    }

    public override ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default)
    {
        DiscardCalls++;
        return Inner.DiscardAsync(offset, length, cancellationToken);
    }

    public override ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default)
    {
        ZeroRangeCalls++;
        return Inner.ZeroRangeAsync(offset, length, cancellationToken);
    }

    private Task BeforeAsync(long offset, CancellationToken cancellationToken)
    {
        int number = Interlocked.Increment(ref _writes);
        return BeforeWrite?.Invoke(number, offset, cancellationToken) ?? Task.CompletedTask;
    }
}

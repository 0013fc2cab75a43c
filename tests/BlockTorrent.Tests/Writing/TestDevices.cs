using BlockTorrent.Devices;

namespace BlockTorrent.Tests.Writing;

/// <summary>
/// A device that passes calls to an inner one, with hooks a test sets to fail, hold or drop writes.
/// It counts zero-range and discard calls, which <see cref="MemoryBlockDevice"/> does not.
/// </summary>
internal sealed class InterceptingDevice(IBlockDevice inner) : IBlockDevice
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

    public string Name => inner.Name;

    public long Length => inner.Length;

    public int LogicalSectorSize => inner.LogicalSectorSize;

    public int PhysicalSectorSize => inner.PhysicalSectorSize;

    public int MemoryAlignment => inner.MemoryAlignment;

    public bool IsReadOnly => inner.IsReadOnly;

    public bool CanDiscard => inner.CanDiscard;

    public bool CanZeroRange => inner.CanZeroRange;

    public bool DiscardZeroesData => inner.DiscardZeroesData;

    public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(offset, buffer, cancellationToken);

    public async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await BeforeAsync(offset, cancellationToken);
        if (DropWrite?.Invoke(offset) != true)
        {
            await inner.WriteAsync(offset, data, cancellationToken);
        }
    }

    public async ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
    {
        await BeforeAsync(offset, cancellationToken);
        if (DropWrite?.Invoke(offset) != true)
        {
            await inner.WriteGatherAsync(offset, buffers, cancellationToken);
        }
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        int number = Interlocked.Increment(ref _flushes);
        if (BeforeFlush is not null)
        {
            await BeforeFlush(number, cancellationToken);
        }

        await inner.FlushAsync(cancellationToken);
    }

    public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default)
    {
        DiscardCalls++;
        return inner.DiscardAsync(offset, length, cancellationToken);
    }

    public ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default)
    {
        ZeroRangeCalls++;
        return inner.ZeroRangeAsync(offset, length, cancellationToken);
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private Task BeforeAsync(long offset, CancellationToken cancellationToken)
    {
        int number = Interlocked.Increment(ref _writes);
        return BeforeWrite?.Invoke(number, offset, cancellationToken) ?? Task.CompletedTask;
    }
}

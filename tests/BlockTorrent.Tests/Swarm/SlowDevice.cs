using BlockTorrent.Devices;

namespace BlockTorrent.Tests.Swarm;

/// <summary>A device whose reads each take at least <paramref name="delay"/>: a seed that is slower than the network.</summary>
internal sealed class SlowDevice(IBlockDevice inner, TimeSpan delay) : IBlockDevice
{
    public string Name => inner.Name;

    public long Length => inner.Length;

    public int LogicalSectorSize => inner.LogicalSectorSize;

    public int PhysicalSectorSize => inner.PhysicalSectorSize;

    public int MemoryAlignment => inner.MemoryAlignment;

    public bool IsReadOnly => inner.IsReadOnly;

    public bool CanDiscard => inner.CanDiscard;

    public bool CanZeroRange => inner.CanZeroRange;

    public bool DiscardZeroesData => inner.DiscardZeroesData;

    public async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await Task.Delay(delay, cancellationToken);
        return await inner.ReadAsync(offset, buffer, cancellationToken);
    }

    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => inner.WriteAsync(offset, data, cancellationToken);

    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

    public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default) => inner.DiscardAsync(offset, length, cancellationToken);

    public ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default) => inner.ZeroRangeAsync(offset, length, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

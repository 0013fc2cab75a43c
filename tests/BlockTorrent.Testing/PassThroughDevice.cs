using BlockTorrent.Devices;

namespace BlockTorrent.Testing;

/// <summary>
/// A device that passes every call to an inner one: the base of the decorators tests and benchmarks put around a
/// device to hold, slow, fail, count or time some of its calls, which override only those.
/// </summary>
/// <remarks>Shared as source with the benchmarks project, which does not reference this test library.</remarks>
/// <param name="inner">The device calls go to.</param>
public abstract class PassThroughDevice(IBlockDevice inner) : IBlockDevice
{
    /// <summary>Gets the device calls go to.</summary>
    protected IBlockDevice Inner { get; } = inner;

    /// <inheritdoc />
    public virtual string Name => Inner.Name;

    /// <inheritdoc />
    public virtual long Length => Inner.Length;

    /// <inheritdoc />
    public virtual int LogicalSectorSize => Inner.LogicalSectorSize;

    /// <inheritdoc />
    public virtual int PhysicalSectorSize => Inner.PhysicalSectorSize;

    /// <inheritdoc />
    public virtual int MemoryAlignment => Inner.MemoryAlignment;

    /// <inheritdoc />
    public virtual bool IsReadOnly => Inner.IsReadOnly;

    /// <inheritdoc />
    public virtual bool CanDiscard => Inner.CanDiscard;

    /// <inheritdoc />
    public virtual bool CanZeroRange => Inner.CanZeroRange;

    /// <inheritdoc />
    public virtual bool DiscardZeroesData => Inner.DiscardZeroesData;

    /// <inheritdoc />
    public virtual ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) => Inner.ReadAsync(offset, buffer, cancellationToken);

    /// <inheritdoc />
    public virtual ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => Inner.WriteAsync(offset, data, cancellationToken);

    /// <inheritdoc />
    public virtual ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default) => Inner.WriteGatherAsync(offset, buffers, cancellationToken);

    /// <inheritdoc />
    public virtual ValueTask FlushAsync(CancellationToken cancellationToken = default) => Inner.FlushAsync(cancellationToken);

    /// <inheritdoc />
    public virtual ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default) => Inner.DiscardAsync(offset, length, cancellationToken);

    /// <inheritdoc />
    public virtual ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default) => Inner.ZeroRangeAsync(offset, length, cancellationToken);

    /// <inheritdoc />
    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return Inner.DisposeAsync();
    }
}

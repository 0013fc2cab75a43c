using BlockTorrent.Devices;

namespace BlockTorrent.Samples.Tests.Cli;

/// <summary>
/// A seed's source that serves reads until <see cref="Allowance"/> bytes have been read, then holds every further
/// read until <see cref="Open"/>: a deployment fed by it gets some pieces and then stalls, at a point the test controls.
/// </summary>
internal sealed class GatedReadDevice(IBlockDevice inner, long allowance) : IBlockDevice
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _read;

    public long Allowance { get; } = allowance;

    public string Name => inner.Name;

    public long Length => inner.Length;

    public int LogicalSectorSize => inner.LogicalSectorSize;

    public int PhysicalSectorSize => inner.PhysicalSectorSize;

    public int MemoryAlignment => inner.MemoryAlignment;

    public bool IsReadOnly => inner.IsReadOnly;

    public bool CanDiscard => false;

    public bool CanZeroRange => false;

    public bool DiscardZeroesData => false;

    /// <summary>Lets every held and later read through.</summary>
    public void Open() => _open.TrySetResult();

    public async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Add(ref _read, buffer.Length) - buffer.Length >= Allowance)
        {
            await _open.Task.WaitAsync(cancellationToken);
        }

        return await inner.ReadAsync(offset, buffer, cancellationToken);
    }

    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => throw new NotSupportedException("A seed's source is read-only.");

    public ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default) => throw new NotSupportedException("A seed's source is read-only.");

    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

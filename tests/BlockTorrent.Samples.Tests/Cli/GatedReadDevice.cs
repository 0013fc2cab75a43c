using BlockTorrent.Devices;
using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

/// <summary>
/// A seed's source that serves reads until <see cref="Allowance"/> bytes have been read, then holds every further
/// read until <see cref="Open"/>: a deployment fed by it gets some pieces and then stalls, at a point the test controls.
/// </summary>
internal sealed class GatedReadDevice(IBlockDevice inner, long allowance) : PassThroughDevice(inner)
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _read;

    public long Allowance { get; } = allowance;

    public override bool CanDiscard => false;

    public override bool CanZeroRange => false;

    public override bool DiscardZeroesData => false;

    /// <summary>Lets every held and later read through.</summary>
    public void Open() => _open.TrySetResult();

    public override async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (Interlocked.Add(ref _read, buffer.Length) - buffer.Length >= Allowance)
        {
            await _open.Task.WaitAsync(cancellationToken);
        }

        return await Inner.ReadAsync(offset, buffer, cancellationToken);
    }

    public override ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => throw new NotSupportedException("A seed's source is read-only.");

    public override ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default) => throw new NotSupportedException("A seed's source is read-only.");

    public override ValueTask FlushAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public override ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public override ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default) => throw new NotSupportedException();
}

using BlockTorrent.Devices;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>
/// A target device that holds every write until the test lets it through, one at a time (<see cref="Allow"/>) or all
/// (<see cref="Open"/>): a deployment onto it moves only as many bytes as its download memory holds beyond what was
/// written, so the test decides when it progresses and that it is not over yet.
/// </summary>
internal sealed class GatedWriteDevice(IBlockDevice inner) : PassThroughDevice(inner)
{
    private readonly SemaphoreSlim _gate = new(0);

    /// <summary>Lets one more write through.</summary>
    public void Allow() => _gate.Release();

    /// <summary>Lets every held and later write through.</summary>
    public void Open() => _gate.Release(1 << 20);

    public override async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        await Inner.WriteAsync(offset, data, cancellationToken);
    }

    public override async ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken);
        await Inner.WriteGatherAsync(offset, buffers, cancellationToken);
    }

    public override async ValueTask DisposeAsync()
    {
        _gate.Dispose();
        await base.DisposeAsync();
    }
}

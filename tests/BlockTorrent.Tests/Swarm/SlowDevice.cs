using BlockTorrent.Devices;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Swarm;

/// <summary>A device whose reads each take at least <paramref name="delay"/>: a seed that is slower than the network.</summary>
internal sealed class SlowDevice(IBlockDevice inner, TimeSpan delay) : PassThroughDevice(inner)
{
    public override async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await Task.Delay(delay, cancellationToken);
        return await Inner.ReadAsync(offset, buffer, cancellationToken);
    }
}

using BlockTorrent.Devices;

namespace BlockTorrent.Interop.Tests.Clients;

/// <summary>
/// A read-only view of a seed's device that counts the bytes read from it. A seed reads its device only to serve
/// peers, so a count of at least the image's length proves a downloader got its copy from us.
/// </summary>
internal sealed class ReadCountingDevice(IBlockDevice inner) : IBlockDevice
{
    private long _bytesRead;

    public long BytesRead => Interlocked.Read(ref _bytesRead);

    public string Name => inner.Name;

    public long Length => inner.Length;

    public int LogicalSectorSize => inner.LogicalSectorSize;

    public int PhysicalSectorSize => inner.PhysicalSectorSize;

    public int MemoryAlignment => inner.MemoryAlignment;

    public bool IsReadOnly => true;

    public bool CanDiscard => false;

    public bool CanZeroRange => false;

    public bool DiscardZeroesData => false;

    public async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        int n = await inner.ReadAsync(offset, buffer, cancellationToken);
        Interlocked.Add(ref _bytesRead, n);
        return n;
    }

    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        throw new InvalidOperationException($"A seed wrote to its source '{Name}' at {offset}.");

    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

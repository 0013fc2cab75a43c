using BlockTorrent.Scratch;

namespace BlockTorrent.Testing;

/// <summary>A scratch store that records the most bytes its inner store held at once, checked after every store.</summary>
public sealed class CountingScratchStore(IScratchStore inner) : IScratchStore
{
    private long _peak;

    /// <summary>Gets the most bytes held at once.</summary>
    public long PeakBytes => Interlocked.Read(ref _peak);

    /// <summary>Gets the number of pieces stored.</summary>
    public int Stores => Volatile.Read(ref _stores);

    private int _stores;

    public long Capacity => inner.Capacity;

    public long BytesUsed => inner.BytesUsed;

    public int Count => inner.Count;

    public async ValueTask<bool> TryStoreAsync(int piece, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        bool stored = await inner.TryStoreAsync(piece, data, cancellationToken);
        if (stored)
        {
            Interlocked.Increment(ref _stores);
            long used = inner.BytesUsed;
            long peak;
            while (used > (peak = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, used, peak) != peak)
            {
            }
        }

        return stored;
    }

    public bool Contains(int piece) => inner.Contains(piece);

    public ValueTask<int> ReadAsync(int piece, Memory<byte> destination, CancellationToken cancellationToken = default) => inner.ReadAsync(piece, destination, cancellationToken);

    public ValueTask<bool> RemoveAsync(int piece, CancellationToken cancellationToken = default) => inner.RemoveAsync(piece, cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}

using System.Globalization;

namespace BlockTorrent.Scratch;

/// <summary>An <see cref="IScratchStore"/> in managed memory, bounded by <see cref="Capacity"/>.</summary>
/// <remarks>Thread-safe. Each stored piece is one array, released to the GC when the piece is removed.</remarks>
public sealed class MemoryScratchStore : IScratchStore
{
    private readonly Dictionary<int, byte[]> _pieces = [];
    private readonly Lock _lock = new();
    private long _bytesUsed;
    private bool _disposed;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="capacity">The most bytes held at once; positive.</param>
    public MemoryScratchStore(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
    }

    /// <inheritdoc />
    public long Capacity { get; }

    /// <inheritdoc />
    public long BytesUsed
    {
        get
        {
            lock (_lock)
            {
                return _bytesUsed;
            }
        }
    }

    /// <inheritdoc />
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _pieces.Count;
            }
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> TryStoreAsync(int piece, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_pieces.ContainsKey(piece))
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Piece {piece} is already stored."));
            }

            if (data.Length > Capacity - _bytesUsed)
            {
                return ValueTask.FromResult(false);
            }

            _pieces.Add(piece, data.ToArray());
            _bytesUsed += data.Length;
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public bool Contains(int piece)
    {
        lock (_lock)
        {
            return _pieces.ContainsKey(piece);
        }
    }

    /// <inheritdoc />
    public ValueTask<int> ReadAsync(int piece, Memory<byte> destination, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_pieces.TryGetValue(piece, out byte[]? data))
            {
                throw new KeyNotFoundException(string.Create(CultureInfo.InvariantCulture, $"Piece {piece} is not stored."));
            }

            ScratchSlots.CheckDestination(piece, data.Length, destination.Length);
            data.CopyTo(destination);
            return ValueTask.FromResult(data.Length);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> RemoveAsync(int piece, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (!_pieces.Remove(piece, out byte[]? data))
            {
                return ValueTask.FromResult(false);
            }

            _bytesUsed -= data.Length;
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _disposed = true;
            _pieces.Clear();
            _bytesUsed = 0;
        }

        return ValueTask.CompletedTask;
    }
}

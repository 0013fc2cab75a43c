using System.Buffers;
using System.Globalization;

namespace BlockTorrent.Scratch;

/// <summary>An <see cref="IScratchStore"/> in managed memory, bounded by <see cref="Capacity"/>.</summary>
/// <remarks>Thread-safe. Each stored piece is one array rented from the shared pool and returned when the piece is removed.</remarks>
public sealed class MemoryScratchStore : IScratchStore
{
    private readonly Dictionary<int, (byte[] Data, int Length)> _pieces = [];
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

            byte[] copy = ArrayPool<byte>.Shared.Rent(data.Length);
            data.CopyTo(copy);
            _pieces.Add(piece, (copy, data.Length));
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
            if (!_pieces.TryGetValue(piece, out var stored))
            {
                throw new KeyNotFoundException(string.Create(CultureInfo.InvariantCulture, $"Piece {piece} is not stored."));
            }

            ScratchSlots.CheckDestination(piece, stored.Length, destination.Length);
            stored.Data.AsSpan(0, stored.Length).CopyTo(destination.Span);
            return ValueTask.FromResult(stored.Length);
        }
    }

    /// <inheritdoc />
    public ValueTask<bool> RemoveAsync(int piece, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (!_pieces.Remove(piece, out var stored))
            {
                return ValueTask.FromResult(false);
            }

            _bytesUsed -= stored.Length;
            ArrayPool<byte>.Shared.Return(stored.Data);
            return ValueTask.FromResult(true);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _disposed = true;
            foreach ((byte[] data, _) in _pieces.Values)
            {
                ArrayPool<byte>.Shared.Return(data);
            }

            _pieces.Clear();
            _bytesUsed = 0;
        }

        return ValueTask.CompletedTask;
    }
}

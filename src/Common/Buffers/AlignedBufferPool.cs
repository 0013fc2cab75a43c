namespace BlockTorrent.Buffers;

/// <summary>
/// A pool of equally sized <see cref="AlignedBuffer"/>s. Buffers are created on demand and kept until the pool is
/// disposed, so a pool sized by a budget of <c>n</c> buffers allocates at most <c>n</c> and then nothing more.
/// </summary>
/// <remarks>
/// Keeping every buffer until disposal (rather than freeing surplus ones) is deliberate: a late write into a buffer
/// its holder already returned lands in pooled memory, never in freed memory. Pooled bytes are always re-verified
/// against a hash before they reach a device, so such a bug can cost a piece but never corrupt a disk.
/// Thread-safe.
/// </remarks>
internal sealed class AlignedBufferPool : IDisposable
{
    private readonly Stack<AlignedBuffer> _free = new();
    private readonly Lock _lock = new();
    private readonly Action<long>? _allocated;
    private int _created;
    private bool _disposed;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="bufferLength">The usable length of every buffer.</param>
    /// <param name="allocated">
    /// Told the bytes of every buffer the pool allocates (positive) and frees (negative), so an owner can report the
    /// memory it holds; <see langword="null"/> for no report.
    /// </param>
    public AlignedBufferPool(int bufferLength, Action<long>? allocated = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bufferLength);
        BufferLength = bufferLength;
        _allocated = allocated;
    }

    /// <summary>Gets the usable length of every buffer.</summary>
    public int BufferLength { get; }

    /// <summary>Gets how many buffers the pool has allocated so far.</summary>
    public int Created => Volatile.Read(ref _created);

    /// <summary>Takes a free buffer, allocating one when none is free.</summary>
    /// <returns>A buffer of <see cref="BufferLength"/> usable bytes with unspecified contents.</returns>
    public AlignedBuffer Rent()
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_free.TryPop(out AlignedBuffer? buffer))
            {
                return buffer;
            }

            _created++;
        }

        var created = new AlignedBuffer(BufferLength);
        _allocated?.Invoke(AlignedBuffer.RoundUp(BufferLength));
        return created;
    }

    /// <summary>Gives a buffer back. After the pool is disposed the buffer is freed instead.</summary>
    /// <param name="buffer">A buffer rented from this pool, with no I/O in flight on it.</param>
    public void Return(AlignedBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        lock (_lock)
        {
            if (!_disposed)
            {
                _free.Push(buffer);
                return;
            }
        }

        Free(buffer);
    }

    /// <summary>Frees every buffer in the pool; buffers still rented are freed when returned.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            while (_free.TryPop(out AlignedBuffer? buffer))
            {
                Free(buffer);
            }
        }
    }

    private void Free(AlignedBuffer buffer)
    {
        ((IDisposable)buffer).Dispose();
        _allocated?.Invoke(-AlignedBuffer.RoundUp(BufferLength));
    }
}

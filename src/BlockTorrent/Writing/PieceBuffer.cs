using BlockTorrent.Buffers;

namespace BlockTorrent.Writing;

/// <summary>
/// Memory for one piece, rented from a <see cref="PieceWriter"/> (<see cref="PieceWriter.RentAsync"/>): fill
/// <see cref="Memory"/> (blocks may arrive in any order, straight from the network) and hand it back with
/// <see cref="PieceWriter.CommitAsync"/>, or <see cref="Dispose"/> it to give the piece up.
/// </summary>
/// <remarks>
/// The memory is native, aligned to 4 KiB and pooled; it counts against the writer's in-flight budget from the rent
/// until the piece is written or rejected (after a commit) or until <see cref="Dispose"/> (without one). After either,
/// the buffer belongs to the writer again: <see cref="Memory"/> throws, and any slice taken earlier must no longer be used.
/// </remarks>
public sealed class PieceBuffer : IDisposable
{
    private const int Rented = 0;
    private const int Committed = 1;
    private const int Released = 2;

    private readonly PieceWriter _owner;
    private readonly AlignedBuffer _buffer;
    private readonly Memory<byte> _memory;
    private int _state;

    internal PieceBuffer(PieceWriter owner, int piece, AlignedBuffer buffer, int length)
    {
        _owner = owner;
        _buffer = buffer;
        Piece = piece;
        _memory = buffer.Memory[..length];
    }

    /// <summary>Gets the piece index this buffer is for.</summary>
    public int Piece { get; }

    /// <summary>Gets the piece's memory: exactly as long as the piece.</summary>
    /// <exception cref="ObjectDisposedException">The buffer was committed or disposed.</exception>
    public Memory<byte> Memory
    {
        get
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref _state) != Rented, this);
            return _memory;
        }
    }

    internal PieceWriter Owner => _owner;

    internal ReadOnlyMemory<byte> Data => _memory;

    // Commit state, owned by the writer's pipeline once the buffer is committed.
    internal object? Source { get; set; }

    internal CancellationToken Token { get; set; }

    internal TaskCompletionSource<PieceWriteResult>? Completion { get; set; }

    internal int PendingWrites { get; set; }

    internal int Copies { get; set; }

    internal Exception? Error { get; set; }

    /// <summary>Gives the piece up without committing it: the memory returns to the writer's pool. Does nothing after a commit.</summary>
    public void Dispose()
    {
        if (Interlocked.CompareExchange(ref _state, Released, Rented) == Rented)
        {
            _owner.Release(_buffer);
        }
    }

    /// <summary>Moves the buffer from rented to committed.</summary>
    /// <returns><see langword="false"/> when it was already committed or disposed.</returns>
    internal bool TryCommit() => Interlocked.CompareExchange(ref _state, Committed, Rented) == Rented;

    /// <summary>Returns a committed buffer's memory to the pool once the pipeline is done with it.</summary>
    internal void ReleaseCommitted()
    {
        if (Interlocked.CompareExchange(ref _state, Released, Committed) == Committed)
        {
            Source = null;
            Completion = null;
            Error = null;
            _owner.Release(_buffer);
        }
    }
}

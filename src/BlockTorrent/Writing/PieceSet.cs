namespace BlockTorrent.Writing;

/// <summary>A fixed-size set of piece indices, safe for concurrent adds, removes and queries without locks.</summary>
internal sealed class PieceSet
{
    private readonly long[] _bits;
    private int _count;

    /// <summary>Initializes a new, empty instance.</summary>
    /// <param name="pieceCount">The number of pieces; indices run from 0 to <paramref name="pieceCount"/> - 1.</param>
    public PieceSet(int pieceCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        PieceCount = pieceCount;
        _bits = new long[(pieceCount + 63) / 64];
    }

    /// <summary>Gets the number of pieces the set can hold.</summary>
    public int PieceCount { get; }

    /// <summary>Gets the number of pieces in the set.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Gets a value indicating whether a piece is in the set.</summary>
    /// <param name="piece">A valid piece index.</param>
    /// <returns><see langword="true"/> when present.</returns>
    public bool Contains(int piece) => (Volatile.Read(ref _bits[piece >> 6]) & (1L << (piece & 63))) != 0;

    /// <summary>Adds a piece.</summary>
    /// <param name="piece">A valid piece index.</param>
    /// <returns><see langword="true"/> when the piece was not in the set before.</returns>
    public bool Add(int piece)
    {
        long mask = 1L << (piece & 63);
        if ((Interlocked.Or(ref _bits[piece >> 6], mask) & mask) != 0)
        {
            return false;
        }

        Interlocked.Increment(ref _count);
        return true;
    }

    /// <summary>Removes a piece.</summary>
    /// <param name="piece">A valid piece index.</param>
    /// <returns><see langword="true"/> when the piece was in the set.</returns>
    public bool Remove(int piece)
    {
        long mask = 1L << (piece & 63);
        if ((Interlocked.And(ref _bits[piece >> 6], ~mask) & mask) == 0)
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>Copies the pieces present into <paramref name="destination"/> (bit <c>i</c> of word <c>i / 64</c> is piece <c>i</c>).</summary>
    /// <param name="destination">At least as many words as this set has.</param>
    public void CopyTo(Span<long> destination)
    {
        for (int i = 0; i < _bits.Length; i++)
        {
            destination[i] = Volatile.Read(ref _bits[i]);
        }
    }

    /// <summary>Gets the number of 64-bit words <see cref="CopyTo"/> writes.</summary>
    public int WordCount => _bits.Length;
}

using BlockTorrent.Wire;

namespace BlockTorrent.Swarm;

/// <summary>
/// What one peer told us with <c>bt_blocks</c> (<see cref="BlockHaveMessage"/>): the verified blocks it holds of
/// pieces it does not hold whole, as a bitmap per piece, for the picker's per-block availability. Bounded: at most
/// <see cref="MaxPieces"/> pieces; an announcement for another piece beyond that is dropped (it is only a hint).
/// </summary>
/// <remarks>Not thread-safe: the swarm reads and updates it under its lock.</remarks>
internal sealed class PartialHoldings
{
    /// <summary>The most pieces kept per peer by default.</summary>
    public const int DefaultMaxPieces = 256;

    private readonly Dictionary<int, byte[]> _pieces = [];

    /// <summary>Initializes a new instance of the <see cref="PartialHoldings"/> class.</summary>
    /// <param name="maxPieces">The most pieces kept.</param>
    public PartialHoldings(int maxPieces = DefaultMaxPieces)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPieces);
        MaxPieces = maxPieces;
    }

    /// <summary>Gets the most pieces kept.</summary>
    public int MaxPieces { get; }

    /// <summary>Gets the number of pieces with blocks kept.</summary>
    public int Count => _pieces.Count;

    /// <summary>Takes an announcement: the union with what the peer said of the piece before.</summary>
    /// <param name="message">The parsed message (its bitmap length already checked against the piece).</param>
    /// <returns><see langword="false"/> when it was dropped: a new piece beyond <see cref="MaxPieces"/>, or a bitmap of another length than before.</returns>
    public bool Add(BlockHaveMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        ReadOnlySpan<byte> bitmap = message.Bitmap;
        if (_pieces.TryGetValue(message.Piece, out byte[]? held))
        {
            if (held.Length != bitmap.Length)
            {
                return false;
            }

            for (int i = 0; i < held.Length; i++)
            {
                held[i] |= bitmap[i];
            }

            return true;
        }

        if (_pieces.Count >= MaxPieces)
        {
            return false;
        }

        _pieces.Add(message.Piece, bitmap.ToArray());
        return true;
    }

    /// <summary>Whether the peer said it holds block <paramref name="block"/> of <paramref name="piece"/>.</summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="block">The block index in the piece (out of range: false).</param>
    /// <returns><see langword="true"/> when announced.</returns>
    public bool Has(int piece, int block) =>
        block >= 0 && _pieces.TryGetValue(piece, out byte[]? held) && (block >> 3) < held.Length
        && (held[block >> 3] & (0x80 >> (block & 7))) != 0;

    /// <summary>Whether the peer said it holds any block of <paramref name="piece"/>.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns><see langword="true"/> when it announced at least one.</returns>
    public bool HasAny(int piece) => _pieces.ContainsKey(piece);

    /// <summary>Gets the pieces with blocks kept.</summary>
    public IEnumerable<int> Pieces => _pieces.Keys;

    /// <summary>Forgets the pieces that no longer matter (we or the peer hold them whole), to make room for others.</summary>
    /// <param name="stale">Whether a piece no longer matters.</param>
    /// <returns>The number of pieces forgotten.</returns>
    public int Prune(Func<int, bool> stale)
    {
        ArgumentNullException.ThrowIfNull(stale);
        int removed = 0;
        foreach (int piece in _pieces.Keys)
        {
            if (stale(piece) && _pieces.Remove(piece))
            {
                removed++;
            }
        }

        return removed;
    }

    /// <summary>Forgets a piece: the peer now holds it whole (a HAVE), or we do.</summary>
    /// <param name="piece">The piece index.</param>
    public void Remove(int piece) => _pieces.Remove(piece);
}

namespace BlockTorrent.Swarm;

/// <summary>
/// What the <see cref="PiecePicker"/> needs to know about one remote peer: the pieces it has, whether it chokes us
/// and which pieces it allows us while choked (BEP 6 allowed fast). The owning session updates it; the picker
/// tracks the peer's outstanding requests and where it was last working (extent affinity).
/// </summary>
internal sealed class PickerPeer
{
    /// <summary>Initializes a new instance for a torrent of <paramref name="pieceCount"/> pieces.</summary>
    /// <param name="pieceCount">The number of pieces.</param>
    public PickerPeer(int pieceCount)
    {
        Has = new Bitfield(pieceCount);
    }

    /// <summary>Gets the pieces the peer has told us it has.</summary>
    public Bitfield Has { get; }

    /// <summary>Gets or sets a value indicating whether the peer chokes us (it starts out choking).</summary>
    public bool IsChokingUs { get; set; } = true;

    /// <summary>Gets the pieces the peer lets us request while it chokes us.</summary>
    public HashSet<int> AllowedFast { get; } = [];

    /// <summary>Gets or sets the piece the peer was last given: new pieces are taken from the same extent.</summary>
    public int LastPiece { get; set; } = -1;

    /// <summary>Gets the number of blocks requested from the peer and not yet received, cancelled or released.</summary>
    public int Outstanding { get; internal set; }

    /// <summary>Gets a value indicating whether the picker may pick <paramref name="piece"/> from this peer now.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns><see langword="true"/> when the peer has it and either unchokes us or allows it fast.</returns>
    public bool CanRequest(int piece) => Has[piece] && (!IsChokingUs || AllowedFast.Contains(piece));

    /// <summary>
    /// Gets or sets the verified blocks a block-relaying peer told us it holds of pieces it does not hold whole
    /// (docs/BLOCK-RELAY.md), or <see langword="null"/> while it told us none.
    /// </summary>
    public PartialHoldings? Partial { get; set; }

    /// <summary>Gets a value indicating whether the picker may pick blocks of <paramref name="piece"/> from this peer now.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns><see langword="true"/> when the peer has the piece or some of its blocks, and either unchokes us or allows it fast.</returns>
    public bool CanRequestBlocks(int piece) => (Has[piece] || (Partial?.HasAny(piece) ?? false)) && (!IsChokingUs || AllowedFast.Contains(piece));

    /// <summary>Gets a value indicating whether the peer holds a block: the whole piece, or the block announced.</summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="block">The block index in the piece.</param>
    /// <returns><see langword="true"/> when it may be asked for the block.</returns>
    public bool Holds(int piece, int block) => Has[piece] || (Partial?.Has(piece, block) ?? false);
}

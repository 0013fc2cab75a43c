namespace BlockTorrent.Wire;

/// <summary>A block of a piece, as named by request, cancel, reject request and piece messages.</summary>
/// <param name="Piece">The piece index.</param>
/// <param name="Offset">The block's offset inside the piece (BEP 3 calls it <c>begin</c>).</param>
/// <param name="Length">The block's length in bytes (16 KiB except for a piece's last block).</param>
internal readonly record struct BlockRequest(int Piece, int Offset, int Length);

namespace BlockTorrent.Swarm;

/// <summary>A block of a piece: the unit of a request (16 KiB, the last block of a piece possibly shorter).</summary>
/// <param name="Piece">The piece index.</param>
/// <param name="Offset">The offset inside the piece.</param>
/// <param name="Length">The length in bytes.</param>
internal readonly record struct PieceBlock(int Piece, int Offset, int Length);

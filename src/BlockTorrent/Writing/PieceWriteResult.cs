namespace BlockTorrent.Writing;

/// <summary>The outcome of committing one piece to a <see cref="PieceWriter"/>.</summary>
/// <param name="Piece">The piece index.</param>
/// <param name="Status">What became of it.</param>
/// <param name="Source">The object passed to the commit (usually the peer that sent the piece), so a caller can blame it.</param>
/// <param name="CopiesWritten">How many piece positions were written: 1 for the piece plus 1 per duplicate written; 0 unless <see cref="PieceWriteStatus.Written"/>.</param>
public readonly record struct PieceWriteResult(int Piece, PieceWriteStatus Status, object? Source, int CopiesWritten);

namespace BlockTorrent.Compression;

/// <summary>
/// A read of a piece a stream target no longer holds: it was decoded and its room in scratch went to a piece ahead of
/// the decoder. The swarm refuses the request (a reject) and keeps serving everything else.
/// </summary>
internal sealed class PieceNotHeldException : IOException
{
    public PieceNotHeldException(int piece)
        : base($"Piece {piece} was decoded and is no longer held in scratch.")
    {
        Piece = piece;
    }

    public PieceNotHeldException()
    {
    }

    public PieceNotHeldException(string message)
        : base(message)
    {
    }

    public PieceNotHeldException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Gets the piece asked for.</summary>
    public int Piece { get; } = -1;
}

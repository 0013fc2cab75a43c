namespace BlockTorrent.Writing;

/// <summary>Which pieces a <see cref="PieceChecker"/> found correct on a device.</summary>
public sealed class PieceCheckResult
{
    private readonly PieceSet _valid;
    private readonly int[] _invalid;

    internal PieceCheckResult(PieceSet valid, int checkedCount, int[] invalid)
    {
        _valid = valid;
        CheckedCount = checkedCount;
        _invalid = invalid;
    }

    /// <summary>Gets the number of pieces in the image.</summary>
    public int PieceCount => _valid.PieceCount;

    /// <summary>Gets the number of pieces checked.</summary>
    public int CheckedCount { get; }

    /// <summary>Gets the number of checked pieces whose bytes on the device match the manifest.</summary>
    public int ValidCount => _valid.Count;

    /// <summary>Gets the checked pieces whose bytes on the device do not match the manifest, in ascending order.</summary>
    public IReadOnlyList<int> InvalidPieces => _invalid;

    /// <summary>Gets a value indicating whether a piece was checked and found correct.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns><see langword="true"/> when the device holds the piece's bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="piece"/> is not a piece of the image.</exception>
    public bool IsValid(int piece)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(piece, PieceCount);
        return _valid.Contains(piece);
    }
}

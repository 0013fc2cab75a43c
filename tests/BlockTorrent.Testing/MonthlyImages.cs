namespace BlockTorrent.Testing;

/// <summary>Last month's image and this month's, for re-imaging tests: some pieces changed, some moved.</summary>
public static class MonthlyImages
{
    /// <summary>
    /// Makes last month's image (random pieces) and this month's: the <paramref name="changed"/> pieces hold new random
    /// bytes, and each moved piece holds what last month's image held at its <c>From</c> piece (which should be a
    /// changed one, so the content sits once in each image, at different offsets).
    /// </summary>
    /// <param name="pieces">How many pieces each image has.</param>
    /// <param name="pieceLength">The piece length.</param>
    /// <param name="changed">The pieces with new bytes.</param>
    /// <param name="moved">The pieces that hold last month's bytes of another piece.</param>
    /// <param name="seed">The random seed.</param>
    /// <returns>Both images.</returns>
    public static (byte[] LastMonth, byte[] ThisMonth) Make(int pieces, int pieceLength, int[] changed, (int Piece, int From)[] moved, int seed)
    {
        var random = new Random(seed);
        byte[] old = new byte[pieces * pieceLength];
        random.NextBytes(old);
        byte[] now = (byte[])old.Clone();
        foreach (int piece in changed)
        {
            random.NextBytes(now.AsSpan(piece * pieceLength, pieceLength));
        }

        foreach ((int piece, int from) in moved)
        {
            old.AsSpan(from * pieceLength, pieceLength).CopyTo(now.AsSpan(piece * pieceLength));
        }

        return (old, now);
    }
}

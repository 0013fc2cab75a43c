namespace BlockTorrent.Tests.Writing;

/// <summary>Small images described piece by piece, so a test says what it is made of.</summary>
internal static class TestImages
{
    /// <summary>
    /// Builds an image: one character per piece. 'r' is unique random bytes, 'z' all zeros, and any other letter a
    /// pattern shared by every piece with that letter (duplicates).
    /// </summary>
    /// <param name="layout">The pieces, e.g. "rrzaar".</param>
    /// <param name="pieceLength">The piece length.</param>
    /// <param name="lastPieceLength">The length of the last piece, or 0 for a full one.</param>
    /// <param name="seed">The random seed.</param>
    /// <returns>The image bytes.</returns>
    public static byte[] Build(string layout, int pieceLength = 64 * 1024, int lastPieceLength = 0, int seed = 1)
    {
        var random = new Random(seed);
        long length = ((long)layout.Length * pieceLength) - (lastPieceLength == 0 ? 0 : pieceLength - lastPieceLength);
        byte[] image = new byte[length];
        var patterns = new Dictionary<char, byte[]>();
        for (int p = 0; p < layout.Length; p++)
        {
            Span<byte> piece = image.AsSpan(p * pieceLength, (int)Math.Min(pieceLength, length - ((long)p * pieceLength)));
            char kind = layout[p];
            if (kind == 'z')
            {
                continue;
            }

            if (kind == 'r')
            {
                random.NextBytes(piece);
                continue;
            }

            if (!patterns.TryGetValue(kind, out byte[]? pattern))
            {
                pattern = new byte[pieceLength];
                random.NextBytes(pattern);
                patterns[kind] = pattern;
            }

            pattern.AsSpan(0, piece.Length).CopyTo(piece);
        }

        return image;
    }

    /// <summary>Gets the bytes of one piece of an image.</summary>
    /// <param name="image">The image.</param>
    /// <param name="pieceLength">The piece length.</param>
    /// <param name="piece">The piece index.</param>
    /// <returns>The piece's bytes.</returns>
    public static ReadOnlyMemory<byte> Piece(byte[] image, int pieceLength, int piece) =>
        image.AsMemory(piece * pieceLength, (int)Math.Min(pieceLength, image.Length - ((long)piece * pieceLength)));
}

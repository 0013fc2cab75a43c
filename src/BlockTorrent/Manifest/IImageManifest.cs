namespace BlockTorrent.Manifest;

/// <summary>
/// What BlockTorrent knows about an image before it has any of its bytes: its length, how it is cut into pieces,
/// and the hash of every piece. It is read from, and written as, a standard .torrent (v1, v2 or hybrid).
/// </summary>
/// <remarks>
/// Piece <c>i</c> covers image bytes <c>[i × PieceLength, min(Length, (i + 1) × PieceLength))</c> and lands at the
/// same offset on the target device. Which pieces are all zeros, and which repeat another piece, is derived from the
/// hashes alone, so the manifest stays a .torrent that every client reads.
/// <para>
/// This is the view of the image the writer (<c>PieceWriter</c>, <c>PieceChecker</c>, <c>ResumeState</c>) needs.
/// <c>BlockTorrentClient</c> takes <see cref="TorrentManifest"/> instead: the peer protocol needs the torrent itself
/// (its info dictionary, piece layers, private flag, trackers and signatures), not only the image's geometry.
/// </para>
/// </remarks>
public interface IImageManifest
{
    /// <summary>Gets the image name (the torrent's <c>name</c>).</summary>
    string Name { get; }

    /// <summary>Gets the image length in bytes.</summary>
    long Length { get; }

    /// <summary>Gets the nominal piece length in bytes: a power of two, at least 16 KiB.</summary>
    int PieceLength { get; }

    /// <summary>Gets the number of pieces.</summary>
    int PieceCount { get; }

    /// <summary>Gets which BitTorrent metadata versions the manifest carries.</summary>
    TorrentVersions Versions { get; }

    /// <summary>Gets the SHA-1 info-hash of a v1 or hybrid torrent, or <see langword="null"/> for a v2-only torrent.</summary>
    InfoHash? InfoHashV1 { get; }

    /// <summary>Gets the SHA-256 info-hash of a v2 or hybrid torrent, or <see langword="null"/> for a v1-only torrent.</summary>
    InfoHash? InfoHashV2 { get; }

    /// <summary>Gets the number of pieces that are all zeros.</summary>
    int ZeroPieceCount { get; }

    /// <summary>Gets the number of pieces whose content equals an earlier piece (all-zero pieces excluded).</summary>
    int DuplicatePieceCount { get; }

    /// <summary>Gets the image offset of a piece.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns>The offset of the piece's first byte.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="piece"/> is not a piece of this image.</exception>
    long GetPieceOffset(int piece);

    /// <summary>Gets the length of a piece: <see cref="PieceLength"/> for all but possibly the last.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns>The number of bytes in the piece.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="piece"/> is not a piece of this image.</exception>
    int GetPieceSize(int piece);

    /// <summary>Gets a value indicating whether a piece is all zeros, judged by its hash.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns><see langword="true"/> when the piece's hash equals the hash of zeros of its length.</returns>
    bool IsZeroPiece(int piece);

    /// <summary>
    /// Gets the lowest-numbered piece with the same content as <paramref name="piece"/>: the one piece of a group of
    /// duplicates that has to be fetched. A piece with no duplicate is its own canonical piece.
    /// </summary>
    /// <param name="piece">The piece index.</param>
    /// <returns>The canonical piece index, less than or equal to <paramref name="piece"/>.</returns>
    int GetCanonicalPiece(int piece);

    /// <summary>
    /// Checks bytes against a piece's hash(es). For v2 and hybrid manifests the SHA-256 merkle root of the piece is
    /// checked; for v1 manifests the SHA-1 hash.
    /// </summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="data">The piece's bytes; a length other than <see cref="GetPieceSize"/> fails verification.</param>
    /// <returns><see langword="true"/> when the bytes are the piece.</returns>
    bool VerifyPiece(int piece, ReadOnlySpan<byte> data);

    /// <summary>
    /// Checks bytes against a piece's hashes; with <paramref name="allHashes"/>, against every hash the manifest
    /// carries for it (both halves of a hybrid torrent), in one pass.
    /// </summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="data">The piece's bytes; a length other than <see cref="GetPieceSize"/> fails verification.</param>
    /// <param name="allHashes">Whether to check every hash, not only the strongest.</param>
    /// <returns><see langword="true"/> when the bytes match every hash checked.</returns>
    /// <exception cref="InvalidTorrentException">
    /// <paramref name="allHashes"/> is set and the bytes match some of the piece's hashes but not the others: the
    /// manifest is inconsistent, whoever sent the bytes.
    /// </exception>
    /// <remarks>The default, for a manifest with one hash per piece, is <see cref="VerifyPiece(int, ReadOnlySpan{byte})"/>.</remarks>
    bool VerifyPiece(int piece, ReadOnlySpan<byte> data, bool allHashes) => VerifyPiece(piece, data);
}

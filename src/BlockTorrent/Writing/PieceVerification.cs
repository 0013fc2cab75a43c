using BlockTorrent.Manifest;

namespace BlockTorrent.Writing;

/// <summary>How the writer and the checker decide that bytes are a piece.</summary>
/// <remarks>
/// By default a piece is checked as <see cref="IImageManifest.VerifyPiece(int, ReadOnlySpan{byte})"/> does: by its SHA-256 merkle root when the
/// manifest has v2 hashes, else by its SHA-1. With <see cref="PieceWriterOptions.VerifyAllHashes"/>, a manifest with
/// several hashes per piece (a hybrid torrent) is checked against both halves in one pass, and bytes that match one half but not the
/// other raise <see cref="InvalidTorrentException"/> (the torrent is inconsistent, not the peer wrong).
/// </remarks>
internal static class PieceVerification
{
    /// <summary>Checks bytes against a piece's hash(es).</summary>
    /// <param name="manifest">The manifest.</param>
    /// <param name="piece">A valid piece index.</param>
    /// <param name="data">The bytes.</param>
    /// <param name="allHashes">Whether to check every hash a hybrid torrent carries.</param>
    /// <returns><see langword="true"/> when the bytes are the piece.</returns>
    /// <exception cref="InvalidTorrentException">The halves of a hybrid torrent disagree about the bytes.</exception>
    public static bool Verify(IImageManifest manifest, int piece, ReadOnlySpan<byte> data, bool allHashes)
        => manifest.VerifyPiece(piece, data, allHashes);
}

using System.Buffers.Binary;
using System.Security.Cryptography;
using BlockTorrent.Manifest;

namespace BlockTorrent.Writing;

/// <summary>
/// Which piece a run of bytes is, by its hash: the index a re-image uses to find a piece whose bytes sit on the target
/// at another piece-aligned offset (content shifted by a partition move, or a block of files relocated).
/// </summary>
/// <remarks>
/// Keyed by the hash <see cref="TorrentManifest.VerifyPiece(int, ReadOnlySpan{byte})"/> checks (the SHA-256 merkle root
/// when the torrent has v2 hashes, else the SHA-1) and the piece's size, so one hash of a region both checks it in place
/// and looks it up. All-zero pieces are left out: the writer satisfies them without reading anything.
/// </remarks>
internal sealed class PieceContentIndex
{
    private readonly TorrentManifest _manifest;
    private readonly Dictionary<Key, int> _canonicalByHash;
    private readonly bool _v2;

    private PieceContentIndex(TorrentManifest manifest, bool v2)
    {
        _manifest = manifest;
        _v2 = v2;
        _canonicalByHash = new Dictionary<Key, int>(manifest.PieceCount - manifest.ZeroPieceCount - manifest.DuplicatePieceCount);
        for (int piece = 0; piece < manifest.PieceCount; piece++)
        {
            if (!manifest.IsZeroPiece(piece) && manifest.GetCanonicalPiece(piece) == piece)
            {
                _canonicalByHash.TryAdd(new Key(HashOf(piece), manifest.GetPieceSize(piece)), piece);
            }
        }
    }

    /// <summary>Builds the index of a manifest's pieces.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <returns>The index.</returns>
    public static PieceContentIndex For(TorrentManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return new PieceContentIndex(manifest, !manifest.GetPieceHashV2(0).IsEmpty);
    }

    /// <summary>Builds the index of a manifest's pieces by their SHA-1 hashes, to compare them with a manifest that has no others.</summary>
    /// <param name="manifest">The manifest, with v1 piece hashes.</param>
    /// <returns>The index.</returns>
    public static PieceContentIndex ForV1(TorrentManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return new PieceContentIndex(manifest, v2: false);
    }

    /// <summary>Gets a value indicating whether the index is keyed by SHA-256 merkle roots (else by SHA-1 hashes).</summary>
    public bool UsesV2 => _v2;

    /// <summary>Finds the piece whose bytes <paramref name="data"/> are.</summary>
    /// <param name="data">A region of the target, as long as a piece.</param>
    /// <returns>The canonical piece (the first of its duplicates) whose hash the bytes have, or -1.</returns>
    public int Find(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[MerkleTree.HashSize];
        PieceHasher hasher = PieceHasher.ForCurrentThread;
        if (_v2)
        {
            hasher.ComputeRoot(data, _manifest.LeavesPerPiece, hash);
        }
        else
        {
            hash = hash[..SHA1.HashSizeInBytes];
            hasher.ComputeSha1(data, hash);
        }

        return FindByHash(hash, data.Length);
    }

    /// <summary>Finds the piece with a hash of the index's kind (see <see cref="UsesV2"/>) and a size.</summary>
    /// <param name="hash">The hash.</param>
    /// <param name="size">The piece's size.</param>
    /// <returns>The canonical piece with that hash and size, or -1.</returns>
    public int FindByHash(ReadOnlySpan<byte> hash, int size)
    {
        // The key narrows the search to one candidate; the full hash decides.
        return _canonicalByHash.TryGetValue(new Key(hash, size), out int piece) && HashOf(piece).SequenceEqual(hash) ? piece : -1;
    }

    private ReadOnlySpan<byte> HashOf(int piece) => _v2 ? _manifest.GetPieceHashV2(piece) : _manifest.GetPieceHashV1(piece);

    /// <summary>The first 16 bytes of a hash and the piece's size.</summary>
    private readonly record struct Key(ulong A, ulong B, int Size)
    {
        public Key(ReadOnlySpan<byte> hash, int size)
            : this(BinaryPrimitives.ReadUInt64LittleEndian(hash), BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]), size)
        {
        }
    }
}

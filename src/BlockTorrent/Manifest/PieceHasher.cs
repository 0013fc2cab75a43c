using System.Security.Cryptography;

namespace BlockTorrent.Manifest;

/// <summary>
/// Hashes pieces with reusable SHA-1 and SHA-256 state: the BEP 52 merkle root of a piece (16 KiB leaves), its
/// SHA-1, or both in one pass over the bytes. One instance per thread (<see cref="ForCurrentThread"/>).
/// </summary>
/// <remarks>
/// <para>
/// A one-shot <see cref="SHA256.HashData(ReadOnlySpan{byte}, Span{byte})"/> sets up and tears down a native digest
/// context on every call. A 4 MiB piece has 256 leaves and 255 inner nodes of 64 bytes each, so per-call set-up
/// costs a measurable share of a piece; reusing one context per thread removes it, and the leaf hashes live in a
/// scratch array owned by the hasher, so hashing a piece allocates nothing.
/// </para>
/// <para>
/// For a hybrid torrent both hashes walk the piece one 16 KiB block at a time: the block is fed to SHA-1 and hashed
/// as a SHA-256 leaf while it is still in the core's cache, so the piece is read from memory once, not twice.
/// </para>
/// <para>Not thread-safe: every thread uses its own instance.</para>
/// </remarks>
internal sealed class PieceHasher : IDisposable
{
    /// <summary>The <see cref="LeafKeys"/> key of a full block of zeros.</summary>
    public const ulong ZeroBlockKey = 0;

    /// <summary>The <see cref="LeafKeys"/> key of a short last block (never mapped).</summary>
    public const ulong ShortBlockKey = 1;

    [ThreadStatic]
    private static PieceHasher? t_current;

    private readonly IncrementalHash _sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly IncrementalHash _sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
    private byte[] _leaves = new byte[256 * MerkleTree.HashSize];

    // The piece being hashed in parts: which hashes, how many leaves so far, and whether a short block ended it.
    private bool _withSha1;
    private bool _withRoot;
    private int _blocks;
    private bool _tail;

    /// <summary>Gets the calling thread's hasher, creating it on first use; it lives as long as the thread.</summary>
    public static PieceHasher ForCurrentThread => t_current ??= new PieceHasher();

    /// <summary>Computes the SHA-1 hash of a piece (v1).</summary>
    /// <param name="data">The piece's bytes.</param>
    /// <param name="hash">Receives 20 bytes.</param>
    public void ComputeSha1(ReadOnlySpan<byte> data, Span<byte> hash)
    {
        _sha1.AppendData(data);
        _sha1.GetHashAndReset(hash);
    }

    /// <summary>
    /// Computes the merkle root of a piece over <paramref name="leafCount"/> leaves (a power of two): one leaf per
    /// 16 KiB block, the last block hashed as is when short, padding hashes beyond the data.
    /// </summary>
    /// <param name="data">The piece's bytes; at most <paramref name="leafCount"/> × 16 KiB.</param>
    /// <param name="leafCount">The piece's leaf count.</param>
    /// <param name="root">Receives 32 bytes.</param>
    public void ComputeRoot(ReadOnlySpan<byte> data, int leafCount, Span<byte> root) => Compute(data, leafCount, root, default, sha1: false);

    /// <summary>
    /// Computes both the merkle root and the SHA-1 of a piece in one pass over its bytes (a hybrid torrent's two
    /// hashes).
    /// </summary>
    /// <param name="data">The piece's bytes; at most <paramref name="leafCount"/> × 16 KiB.</param>
    /// <param name="leafCount">The piece's leaf count.</param>
    /// <param name="root">Receives the 32-byte merkle root.</param>
    /// <param name="sha1">Receives the 20-byte SHA-1.</param>
    public void ComputeBoth(ReadOnlySpan<byte> data, int leafCount, Span<byte> root, Span<byte> sha1) => Compute(data, leafCount, root, sha1, sha1: true);

    /// <summary>
    /// Reduces a layer of <paramref name="count"/> hashes in place to the root of a subtree of
    /// <paramref name="width"/> nodes at <paramref name="height"/>; see <see cref="MerkleTree.ReduceLayer"/>.
    /// </summary>
    /// <param name="layer">The layer's hashes; overwritten.</param>
    /// <param name="count">The number of real hashes (at least 1, at most <paramref name="width"/>).</param>
    /// <param name="width">The layer width: a power of two.</param>
    /// <param name="height">The layer's height above the leaves.</param>
    /// <param name="root">Receives 32 bytes.</param>
    public void ReduceLayer(Span<byte> layer, int count, long width, int height, Span<byte> root)
    {
        const int H = MerkleTree.HashSize;
        while (width > 1)
        {
            int parents = (count + 1) / 2;
            for (int i = 0; i < parents; i++)
            {
                // Children 2i and 2i+1 are read before parent i is written: i <= 2i, so the write never overtakes them.
                _sha256.AppendData(layer.Slice(2 * i * H, H));
                _sha256.AppendData((2 * i) + 1 < count ? layer.Slice(((2 * i) + 1) * H, H) : MerkleTree.PadHash(height));
                _sha256.GetHashAndReset(layer.Slice(i * H, H));
            }

            count = parents;
            width /= 2;
            height++;
        }

        layer[..H].CopyTo(root);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _sha256.Dispose();
        _sha1.Dispose();
    }

    /// <summary>
    /// Starts hashing a piece that arrives in parts (<see cref="Append"/>, then <see cref="Finish"/>): the same
    /// hashes as the one-call methods, for a piece read in chunks that fit the core's cache.
    /// </summary>
    /// <param name="sha1">Whether to compute the SHA-1.</param>
    /// <param name="root">Whether to compute the merkle root.</param>
    public void Start(bool sha1, bool root)
    {
        _withSha1 = sha1;
        _withRoot = root;
        _blocks = 0;
        _tail = false;
    }

    /// <summary>Hashes the next part of the piece started by <see cref="Start"/>.</summary>
    /// <param name="data">The next bytes: a whole number of 16 KiB blocks, except in the piece's last part.</param>
    public void Append(ReadOnlySpan<byte> data)
    {
        System.Diagnostics.Debug.Assert(!_tail, "Only the last part of a piece may end in a partial block.");
        if (!_withRoot)
        {
            _sha1.AppendData(data);
            return;
        }

        int blocks = (int)MerkleTree.BlockCount(data.Length);
        int needed = (_blocks + blocks) * MerkleTree.HashSize;
        if (_leaves.Length < needed)
        {
            Array.Resize(ref _leaves, Math.Max(needed, _leaves.Length * 2));
        }

        for (int i = 0; i < blocks; i++)
        {
            int start = i * MerkleTree.BlockSize;
            ReadOnlySpan<byte> block = data.Slice(start, Math.Min(MerkleTree.BlockSize, data.Length - start));
            if (_withSha1)
            {
                _sha1.AppendData(block);
            }

            _sha256.AppendData(block);
            _sha256.GetHashAndReset(_leaves.AsSpan((_blocks + i) * MerkleTree.HashSize, MerkleTree.HashSize));
            _tail = block.Length < MerkleTree.BlockSize;
        }

        _blocks += blocks;
    }

    /// <summary>
    /// Writes a 64-bit key per leaf of the piece hashed so far (call before <see cref="Finish"/>, which overwrites the
    /// leaves): <see cref="ZeroBlockKey"/> for a full block of zeros (its leaf is the zero block's leaf),
    /// <see cref="ShortBlockKey"/> for a short last block, and for any other block the first 8 bytes of its leaf,
    /// moved off those two values. Equal keys are, but for a 2^-64 chance, equal blocks.
    /// </summary>
    /// <param name="keys">Receives one key per block appended; at least that long.</param>
    /// <returns>The number of keys written: the blocks appended, or 0 without a merkle root.</returns>
    public int LeafKeys(Span<ulong> keys)
    {
        if (!_withRoot)
        {
            return 0;
        }

        ReadOnlySpan<byte> zeroLeaf = ZeroPieceHashes.ZeroBlockLeaf;
        for (int i = 0; i < _blocks; i++)
        {
            ReadOnlySpan<byte> leaf = _leaves.AsSpan(i * MerkleTree.HashSize, MerkleTree.HashSize);
            if (_tail && i == _blocks - 1)
            {
                keys[i] = ShortBlockKey;
            }
            else if (leaf.SequenceEqual(zeroLeaf))
            {
                keys[i] = ZeroBlockKey;
            }
            else
            {
                ulong key = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(leaf);
                keys[i] = key is ZeroBlockKey or ShortBlockKey ? 2 : key;
            }
        }

        return _blocks;
    }

    /// <summary>Finishes the piece: writes the hashes that <see cref="Start"/> asked for.</summary>
    /// <param name="leafCount">The piece's leaf count (a power of two); ignored without a merkle root.</param>
    /// <param name="root">Receives the 32-byte merkle root, when asked for.</param>
    /// <param name="sha1">Receives the 20-byte SHA-1, when asked for.</param>
    public void Finish(int leafCount, Span<byte> root, Span<byte> sha1)
    {
        if (_withSha1)
        {
            _sha1.GetHashAndReset(sha1);
        }

        if (!_withRoot)
        {
            return;
        }

        System.Diagnostics.Debug.Assert(System.Numerics.BitOperations.IsPow2(leafCount) && _blocks <= leafCount, "The data must fit the leaves.");
        if (_blocks == 0)
        {
            // No data: every leaf is padding.
            MerkleTree.PadHash(System.Numerics.BitOperations.Log2((uint)leafCount)).CopyTo(root);
            return;
        }

        ReduceLayer(_leaves.AsSpan(0, _blocks * MerkleTree.HashSize), _blocks, leafCount, 0, root);
    }

    private void Compute(ReadOnlySpan<byte> data, int leafCount, Span<byte> root, Span<byte> sha1Hash, bool sha1)
    {
        Start(sha1, root: true);
        Append(data);
        Finish(leafCount, root, sha1Hash);
    }
}

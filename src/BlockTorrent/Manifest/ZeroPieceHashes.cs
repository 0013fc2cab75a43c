using System.Collections.Concurrent;
using System.Numerics;
using System.Security.Cryptography;
using BlockTorrent.Buffers;

namespace BlockTorrent.Manifest;

/// <summary>
/// The hashes of all-zero pieces: the SHA-1 of <c>size</c> zero bytes and the BEP 52 merkle root of a zero piece,
/// so a piece known to be zero (a hole of a sparse image, or bytes found to be zero) is never hashed.
/// </summary>
/// <remarks>
/// The merkle root is built from its leaves without hashing the piece: every full 16 KiB zero block has the same
/// leaf hash. The SHA-1 has no such shortcut and is computed over zeros from the shared <see cref="ZeroBuffer"/>.
/// Both are cached per power-of-two size (a torrent's piece length; at most 15 of them), so a process computes each
/// once; any other size (a torrent's short last piece) is computed on every call. Thread-safe.
/// </remarks>
internal static class ZeroPieceHashes
{
    private static readonly ConcurrentDictionary<int, byte[]> Sha1Cache = new();
    private static readonly ConcurrentDictionary<(int Size, int LeafCount), byte[]> RootCache = new();
    private static readonly byte[] ZeroLeaf = SHA256.HashData(new byte[MerkleTree.BlockSize]);

    /// <summary>Gets the BEP 52 leaf hash of a 16 KiB block of zeros.</summary>
    public static ReadOnlySpan<byte> ZeroBlockLeaf => ZeroLeaf;

    /// <summary>Gets the SHA-1 of <paramref name="size"/> zero bytes.</summary>
    /// <param name="size">The piece size in bytes, at least 1.</param>
    /// <returns>20 bytes; a shared array the caller must not change.</returns>
    public static byte[] Sha1(int size)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        return BitOperations.IsPow2(size) ? Sha1Cache.GetOrAdd(size, ComputeSha1) : ComputeSha1(size);
    }

    /// <summary>
    /// Gets the merkle root of <paramref name="size"/> zero bytes in a piece of <paramref name="leafCount"/> leaves:
    /// one leaf per 16 KiB block (the last hashed as is when short), padding hashes beyond the data.
    /// </summary>
    /// <param name="size">The piece size in bytes, at least 1 and at most <paramref name="leafCount"/> × 16 KiB.</param>
    /// <param name="leafCount">The piece's leaf count: a power of two.</param>
    /// <returns>32 bytes; a shared array the caller must not change.</returns>
    public static byte[] Root(int size, int leafCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        if (!BitOperations.IsPow2(leafCount) || size > (long)leafCount * MerkleTree.BlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(leafCount), leafCount, $"{size} bytes do not fit {leafCount} leaves of 16 KiB, or the count is not a power of two.");
        }

        return BitOperations.IsPow2(size) ? RootCache.GetOrAdd((size, leafCount), static key => ComputeRoot(key.Size, key.LeafCount)) : ComputeRoot(size, leafCount);
    }

    private static byte[] ComputeSha1(int size)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        ReadOnlySpan<byte> zeros = ZeroBuffer.Memory.Span;
        for (int left = size; left > 0; left -= zeros.Length)
        {
            sha1.AppendData(zeros[..Math.Min(zeros.Length, left)]);
        }

        return sha1.GetHashAndReset();
    }

    private static byte[] ComputeRoot(int size, int leafCount)
    {
        int blocks = (int)MerkleTree.BlockCount(size);
        int tail = size % MerkleTree.BlockSize;
        byte[] leaves = new byte[blocks * MerkleTree.HashSize];
        for (int i = 0; i < blocks; i++)
        {
            Span<byte> leaf = leaves.AsSpan(i * MerkleTree.HashSize, MerkleTree.HashSize);
            if (i == blocks - 1 && tail != 0)
            {
                SHA256.HashData(ZeroBuffer.Memory.Span[..tail], leaf);
            }
            else
            {
                ZeroLeaf.CopyTo(leaf);
            }
        }

        byte[] root = new byte[MerkleTree.HashSize];
        MerkleTree.ReduceLayer(leaves, blocks, leafCount, 0, root);
        return root;
    }
}

using System.Buffers;
using System.Numerics;
using System.Security.Cryptography;

namespace BlockTorrent.Manifest;

/// <summary>
/// BEP 52 SHA-256 merkle trees: 16 KiB leaf blocks, and a tree padded to a power of two with zero hashes
/// (32 zero bytes at the leaf layer, and above it the hash of two padding children).
/// </summary>
/// <remarks>Every member is thread-safe and allocation-free for pieces up to 32 MiB (2048 leaves).</remarks>
internal static class MerkleTree
{
    /// <summary>The size of a leaf block: 16 KiB.</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>The size of a SHA-256 hash.</summary>
    public const int HashSize = SHA256.HashSizeInBytes;

    // 2048 leaves × 32 bytes = 64 KiB of stack at most; larger pieces rent from the pool.
    private const int MaxStackLeaves = 2048;

    // Padding hashes of subtrees of 2^k leaves, k = 0..63: ZeroHashes[0] is 32 zero bytes.
    private static readonly byte[] PadHashes = ComputePadHashes();

    /// <summary>Gets the hash of a subtree of 2^<paramref name="height"/> padding leaves.</summary>
    /// <param name="height">The subtree height (0 = a single leaf).</param>
    /// <returns>32 bytes.</returns>
    public static ReadOnlySpan<byte> PadHash(int height) => PadHashes.AsSpan(height * HashSize, HashSize);

    /// <summary>Gets the number of 16 KiB blocks in <paramref name="length"/> bytes (the last may be partial).</summary>
    /// <param name="length">A length in bytes.</param>
    /// <returns>The block count.</returns>
    public static long BlockCount(long length) => (length + BlockSize - 1) / BlockSize;

    /// <summary>
    /// Computes the root of a tree of <paramref name="leafCount"/> leaves (a power of two) over <paramref name="data"/>:
    /// one leaf per 16 KiB block (the last block may be short and is hashed as is), zero hashes beyond the data.
    /// </summary>
    /// <param name="data">The bytes; at most <paramref name="leafCount"/> × 16 KiB.</param>
    /// <param name="leafCount">The number of leaves: a power of two.</param>
    /// <param name="root">Receives the 32-byte root.</param>
    public static void ComputeRoot(ReadOnlySpan<byte> data, int leafCount, Span<byte> root)
    {
        System.Diagnostics.Debug.Assert(BitOperations.IsPow2(leafCount) && data.Length <= (long)leafCount * BlockSize, "The data must fit the leaves.");
        int blocks = (int)BlockCount(data.Length);
        int size = blocks * HashSize;
        byte[]? rented = null;
        Span<byte> leaves = blocks <= MaxStackLeaves
            ? stackalloc byte[MaxStackLeaves * HashSize]
            : (rented = ArrayPool<byte>.Shared.Rent(size));
        leaves = leaves[..size];
        for (int i = 0; i < blocks; i++)
        {
            int start = i * BlockSize;
            SHA256.HashData(data.Slice(start, Math.Min(BlockSize, data.Length - start)), leaves.Slice(i * HashSize, HashSize));
        }

        ReduceLayer(leaves, blocks, leafCount, 0, root);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Reduces a layer of <paramref name="count"/> hashes (in place) to the root of a subtree of
    /// <paramref name="width"/> nodes at <paramref name="height"/>, padding the missing nodes with pad hashes.
    /// </summary>
    /// <param name="layer">The layer's hashes; overwritten.</param>
    /// <param name="count">The number of real hashes in the layer (at least 1, at most <paramref name="width"/>).</param>
    /// <param name="width">The layer width: a power of two.</param>
    /// <param name="height">The layer's height above the leaves (selects the padding hash).</param>
    /// <param name="root">Receives the 32-byte root.</param>
    public static void ReduceLayer(Span<byte> layer, int count, long width, int height, Span<byte> root)
    {
        Span<byte> pair = stackalloc byte[2 * HashSize];
        while (width > 1)
        {
            int parents = (count + 1) / 2;
            for (int i = 0; i < parents; i++)
            {
                layer.Slice(2 * i * HashSize, HashSize).CopyTo(pair);
                if ((2 * i) + 1 < count)
                {
                    layer.Slice(((2 * i) + 1) * HashSize, HashSize).CopyTo(pair[HashSize..]);
                }
                else
                {
                    PadHash(height).CopyTo(pair[HashSize..]);
                }

                SHA256.HashData(pair, layer.Slice(i * HashSize, HashSize));
            }

            count = parents;
            width /= 2;
            height++;
        }

        if (count == 0)
        {
            PadHash(height).CopyTo(root);
        }
        else
        {
            layer[..HashSize].CopyTo(root);
        }
    }

    /// <summary>
    /// Builds every layer of a file's tree from its piece layer up to the root: layer 0 is the piece layer padded
    /// to a power of two with pad hashes, the last layer is the root alone.
    /// </summary>
    /// <param name="pieceLayer">The piece hashes, 32 bytes each.</param>
    /// <param name="pieceHeight">The piece layer's height above the leaves.</param>
    /// <returns>The layers, lowest first.</returns>
    public static byte[][] BuildLayers(ReadOnlySpan<byte> pieceLayer, int pieceHeight)
    {
        int count = pieceLayer.Length / HashSize;
        int width = (int)RoundUpToPowerOfTwo(count);
        var layers = new byte[BitOperations.Log2((uint)width) + 1][];
        byte[] layer = new byte[width * HashSize];
        pieceLayer.CopyTo(layer);
        for (int i = count; i < width; i++)
        {
            PadHash(pieceHeight).CopyTo(layer.AsSpan(i * HashSize));
        }

        layers[0] = layer;
        for (int k = 1; k < layers.Length; k++)
        {
            byte[] below = layers[k - 1];
            byte[] above = new byte[below.Length / 2];
            for (int i = 0; i < above.Length / HashSize; i++)
            {
                SHA256.HashData(below.AsSpan(2 * i * HashSize, 2 * HashSize), above.AsSpan(i * HashSize, HashSize));
            }

            layers[k] = above;
        }

        return layers;
    }

    /// <summary>
    /// Checks a BEP 52 <c>hashes</c> reply: <paramref name="length"/> hashes of layer <paramref name="baseLayer"/>
    /// starting at <paramref name="index"/>, followed by the uncle hashes up to the root.
    /// </summary>
    /// <param name="root">The file's pieces root.</param>
    /// <param name="treeHeight">The root's height above the leaves.</param>
    /// <param name="baseLayer">The height of the requested hashes.</param>
    /// <param name="index">The position of the first requested hash in its layer (a multiple of <paramref name="length"/>).</param>
    /// <param name="length">The number of requested hashes: a power of two, at least 2.</param>
    /// <param name="hashes">The requested hashes followed by the proof.</param>
    /// <returns><see langword="true"/> when the hashes and proof lead exactly to <paramref name="root"/>.</returns>
    public static bool VerifyHashes(ReadOnlySpan<byte> root, int treeHeight, int baseLayer, int index, int length, ReadOnlySpan<byte> hashes)
    {
        if (length < 2 || !BitOperations.IsPow2(length) || index < 0 || index % length != 0 || baseLayer < 0 || hashes.Length % HashSize != 0)
        {
            return false;
        }

        int subtreeHeight = BitOperations.Log2((uint)length);
        int layer = baseLayer + subtreeHeight;
        int uncles = treeHeight - layer;
        if (uncles < 0 || hashes.Length != (length + uncles) * HashSize || (long)index + length > 1L << (treeHeight - baseLayer))
        {
            return false;
        }

        byte[] work = ArrayPool<byte>.Shared.Rent(length * HashSize);
        Span<byte> node = stackalloc byte[HashSize];
        Span<byte> pair = stackalloc byte[2 * HashSize];
        try
        {
            hashes[..(length * HashSize)].CopyTo(work);
            ReduceLayer(work.AsSpan(0, length * HashSize), length, length, baseLayer, node);
            long position = index / length;
            for (int u = 0; u < uncles; u++, position /= 2)
            {
                ReadOnlySpan<byte> uncle = hashes.Slice((length + u) * HashSize, HashSize);
                (position % 2 == 0 ? node : uncle).CopyTo(pair);
                (position % 2 == 0 ? uncle : node).CopyTo(pair[HashSize..]);
                SHA256.HashData(pair, node);
            }

            return node.SequenceEqual(root);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(work);
        }
    }

    /// <summary>Rounds up to a power of two (1 for 0 and 1).</summary>
    /// <param name="value">A non-negative count.</param>
    /// <returns>The smallest power of two at least <paramref name="value"/>.</returns>
    public static long RoundUpToPowerOfTwo(long value) => value <= 1 ? 1 : (long)BitOperations.RoundUpToPowerOf2((ulong)value);

    private static byte[] ComputePadHashes()
    {
        byte[] hashes = new byte[64 * HashSize];
        Span<byte> pair = stackalloc byte[2 * HashSize];
        for (int k = 1; k < 64; k++)
        {
            ReadOnlySpan<byte> below = hashes.AsSpan((k - 1) * HashSize, HashSize);
            below.CopyTo(pair);
            below.CopyTo(pair[HashSize..]);
            SHA256.HashData(pair, hashes.AsSpan(k * HashSize, HashSize));
        }

        return hashes;
    }
}

using System.Numerics;
using System.Security.Cryptography;
using BlockTorrent.Manifest;

namespace BlockTorrent.Swarm;

/// <summary>
/// The BEP 52 leaf hashes of one piece (one SHA-256 per 16 KiB block, padded with zero hashes to the piece's
/// power-of-two width), which block relaying checks each block against before passing it on: computed from a piece we
/// hold, or taken from a peer only once they hash up to the piece's entry in the verified piece layer.
/// </summary>
internal sealed class LeafHashes
{
    private readonly byte[] _leaves;

    private LeafHashes(byte[] leaves, int blockCount)
    {
        _leaves = leaves;
        BlockCount = blockCount;
    }

    /// <summary>Gets the number of real blocks of the piece (leaves past it are padding).</summary>
    public int BlockCount { get; }

    /// <summary>Gets the leaves as they travel in a BEP 52 hashes message (width × 32 bytes).</summary>
    public ReadOnlySpan<byte> Leaves => _leaves;

    /// <summary>Computes the leaf hashes of a piece we hold.</summary>
    /// <param name="piece">The piece's bytes (its real size; the last piece may be short).</param>
    /// <param name="width">The leaves per piece: the piece length / 16 KiB, a power of two.</param>
    /// <returns>The leaf hashes.</returns>
    public static LeafHashes Compute(ReadOnlySpan<byte> piece, int width)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        if (!BitOperations.IsPow2(width) || piece.Length > (long)width * MerkleTree.BlockSize)
        {
            throw new ArgumentException("The piece must fit a power-of-two number of leaves.", nameof(width));
        }

        int blocks = (int)MerkleTree.BlockCount(piece.Length);
        byte[] leaves = new byte[width * MerkleTree.HashSize]; // padding leaves are zero hashes
        for (int i = 0; i < blocks; i++)
        {
            int start = i * MerkleTree.BlockSize;
            SHA256.HashData(piece.Slice(start, Math.Min(MerkleTree.BlockSize, piece.Length - start)), leaves.AsSpan(i * MerkleTree.HashSize, MerkleTree.HashSize));
        }

        return new LeafHashes(leaves, blocks);
    }

    /// <summary>Takes leaf hashes from a peer if they prove against the piece's hash.</summary>
    /// <param name="pieceHash">The piece's v2 hash from the verified piece layer (32 bytes).</param>
    /// <param name="width">The leaves per piece: a power of two, at least 2.</param>
    /// <param name="pieceSize">The piece's real size in bytes.</param>
    /// <param name="leaves">The hashes the peer sent: exactly <paramref name="width"/> × 32 bytes.</param>
    /// <returns>The leaf hashes, or <see langword="null"/> when they do not hash up to <paramref name="pieceHash"/> or a padding leaf is not zero.</returns>
    public static LeafHashes? TryProve(ReadOnlySpan<byte> pieceHash, int width, int pieceSize, ReadOnlySpan<byte> leaves)
    {
        if (width < 2 || !BitOperations.IsPow2(width) || pieceSize <= 0 || pieceSize > (long)width * MerkleTree.BlockSize
            || pieceHash.Length != MerkleTree.HashSize || leaves.Length != width * MerkleTree.HashSize)
        {
            return null;
        }

        int blocks = (int)MerkleTree.BlockCount(pieceSize);
        if (leaves[(blocks * MerkleTree.HashSize)..].ContainsAnyExcept((byte)0))
        {
            return null;
        }

        int height = BitOperations.Log2((uint)width);
        return MerkleTree.VerifyHashes(pieceHash, height, 0, 0, width, leaves) ? new LeafHashes(leaves.ToArray(), blocks) : null;
    }

    /// <summary>Whether a block's bytes match its leaf hash.</summary>
    /// <param name="block">The block index in the piece (out of range: false).</param>
    /// <param name="data">The block's bytes (16 KiB, or less for the last block of the image).</param>
    /// <returns><see langword="true"/> when SHA-256 of <paramref name="data"/> is the block's leaf.</returns>
    public bool Matches(int block, ReadOnlySpan<byte> data)
    {
        if (block < 0 || block >= BlockCount || data.Length is 0 or > MerkleTree.BlockSize)
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[MerkleTree.HashSize];
        SHA256.HashData(data, hash);
        return hash.SequenceEqual(_leaves.AsSpan(block * MerkleTree.HashSize, MerkleTree.HashSize));
    }
}

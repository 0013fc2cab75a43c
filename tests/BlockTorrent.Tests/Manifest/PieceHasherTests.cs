using System.Security.Cryptography;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Manifest;

public sealed class PieceHasherTests
{
    [Fact]
    public void TheMerkleRootEqualsTheOneShotTreeForAnyLengthAndWidth()
    {
        using var hasher = new PieceHasher();
        Prop.ForAll(Gen.Choose(0, 300_000).ToArbitrary(), Gen.Choose(0, 3).ToArbitrary(), (length, extraHeight) =>
        {
            byte[] data = Bytes(length, length);
            int leaves = (int)MerkleTree.RoundUpToPowerOfTwo(MerkleTree.BlockCount(length)) << extraHeight;
            byte[] expected = new byte[32], actual = new byte[32];
            MerkleTree.ComputeRoot(data, leaves, expected);

            hasher.ComputeRoot(data, leaves, actual);

            return expected.AsSpan().SequenceEqual(actual);
        }).CheckSeeded();
    }

    [Fact]
    public void OnePassGivesTheSameSha1AndMerkleRootAsTwo()
    {
        using var hasher = new PieceHasher();
        Prop.ForAll(Gen.Choose(0, 300_000).ToArbitrary(), length =>
        {
            byte[] data = Bytes(length, ~length);
            int leaves = (int)MerkleTree.RoundUpToPowerOfTwo(MerkleTree.BlockCount(length));
            byte[] root = new byte[32], expectedRoot = new byte[32], sha1 = new byte[20];
            MerkleTree.ComputeRoot(data, leaves, expectedRoot);

            hasher.ComputeBoth(data, leaves, root, sha1);

            return root.AsSpan().SequenceEqual(expectedRoot) && sha1.AsSpan().SequenceEqual(SHA1.HashData(data));
        }).CheckSeeded();
    }

    [Fact]
    public void APieceHashedInPartsOfWholeBlocksGetsTheSameHashesAsInOneCall()
    {
        using var hasher = new PieceHasher();
        Prop.ForAll(Gen.Choose(0, 1_200_000).ToArbitrary(), Gen.Choose(1, 20).ToArbitrary(), (length, blocksPerPart) =>
        {
            byte[] data = Bytes(length, length ^ 0x5A5A);
            int leaves = (int)MerkleTree.RoundUpToPowerOfTwo(MerkleTree.BlockCount(length));
            byte[] root = new byte[32], expectedRoot = new byte[32], sha1 = new byte[20], expectedSha1 = new byte[20];
            hasher.ComputeBoth(data, leaves, expectedRoot, expectedSha1);

            hasher.Start(sha1: true, root: true);
            for (int at = 0; at < length; at += blocksPerPart * MerkleTree.BlockSize)
            {
                hasher.Append(data.AsSpan(at, Math.Min(blocksPerPart * MerkleTree.BlockSize, length - at)));
            }

            hasher.Finish(leaves, root, sha1);

            return root.AsSpan().SequenceEqual(expectedRoot) && sha1.AsSpan().SequenceEqual(expectedSha1);
        }).CheckSeeded();
    }

    [Fact]
    public void AHasherIsReusableAfterAPieceLargerThanItsScratch()
    {
        using var hasher = new PieceHasher();
        byte[] large = Bytes(16 << 20, 1), small = Bytes(40_000, 2);
        byte[] first = new byte[32], second = new byte[32], expected = new byte[32];
        hasher.ComputeRoot(large, 1024, first);

        hasher.ComputeRoot(small, 4, second);

        MerkleTree.ComputeRoot(small, 4, expected);
        Assert.Equal(expected, second);
    }

    [Fact]
    public void EachThreadGetsItsOwnHasher()
    {
        PieceHasher mine = PieceHasher.ForCurrentThread;
        PieceHasher? other = null;
        var thread = new Thread(() => other = PieceHasher.ForCurrentThread);
        thread.Start();
        thread.Join();

        Assert.Same(mine, PieceHasher.ForCurrentThread);
        Assert.NotNull(other);
        Assert.NotSame(mine, other);
    }

    private static byte[] Bytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}

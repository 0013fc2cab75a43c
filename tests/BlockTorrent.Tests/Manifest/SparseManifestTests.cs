using System.Security.Cryptography;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using FsCheck.Fluent;
using Microsoft.Win32.SafeHandles;

namespace BlockTorrent.Tests.Manifest;

/// <summary>
/// Manifests of sparse images and of zero ranges: holes are skipped and zero pieces are not hashed, yet every manifest
/// is byte for byte the one that hashing every byte gives.
/// </summary>
public sealed class SparseManifestTests
{
    private const int KiB = 1024;
    private const long MiB = 1024 * 1024;

    [Theory]
    [InlineData(1, 1)]
    [InlineData(100, 1)]
    [InlineData(16 * KiB, 1)]
    [InlineData((16 * KiB) + 1, 2)]
    [InlineData((16 * KiB) + 1, 8)]
    [InlineData(48 * KiB, 4)]
    [InlineData(64 * KiB, 4)]
    [InlineData((3 * (int)MiB) + 12345, 256)]
    [InlineData(4 * (int)MiB, 256)]
    [InlineData(16 * (int)MiB, 1024)]
    public void TheKnownHashesOfZerosAreTheHashesOfZeroBytes(int size, int leafCount)
    {
        byte[] zeros = new byte[size];
        byte[] root = new byte[MerkleTree.HashSize];
        MerkleTree.ComputeRoot(zeros, leafCount, root);

        Assert.Equal(SHA1.HashData(zeros), ZeroPieceHashes.Sha1(size));
        Assert.Equal(root, ZeroPieceHashes.Root(size, leafCount));
        Assert.Same(ZeroPieceHashes.Sha1(64 * KiB), ZeroPieceHashes.Sha1(64 * KiB));
    }

    /// <summary>
    /// Whatever the layout of data, holes and written zeros, the piece length (with a short last piece or not) and the
    /// versions: the manifest of the sparse file, of the same bytes written densely, of the file read as a device and
    /// of the bytes in memory are one and the same, and every piece hash is the hash of the piece's bytes.
    /// </summary>
    [Fact]
    public void TheManifestOfASparseFileIsTheManifestOfTheSameBytesHashedInFull()
        => Prop.ForAll(PropertyCheck.ScenarioSeeds, seed => Task.Run(() => SparseAndDenseAgreeAsync(seed)).GetAwaiter().GetResult()).CheckSeeded(maxTest: 25);

    [Theory]
    [InlineData(true, TorrentVersions.V1)]
    [InlineData(false, TorrentVersions.V1)]
    [InlineData(true, TorrentVersions.Hybrid)]
    [InlineData(false, TorrentVersions.V2)]
    public async Task APieceWhoseDataStartsAfterZerosItReadFirstIsHashedWithThoseZeros(bool hole, TorrentVersions versions)
    {
        // 4 MiB pieces are read in 1 MiB chunks: the first one and a half are zeros (a hole, or zeros written out).
        using var dir = new TempDirectory();
        string path = dir.File("late-data.img");
        byte[] image = new byte[(8 * MiB) + 5];
        new Random(9).NextBytes(image.AsSpan((int)(1.5 * MiB), (int)MiB));
        image[^1] = 1;
        await WriteSparseAsync(path, image.Length, hole ? [((long)(1.5 * MiB), image[(int)(1.5 * MiB)..])] : [(0, image)]);
        var options = new ManifestBuilderOptions { Name = "image", PieceLength = 4 * (int)MiB, Versions = versions, MaxDegreeOfParallelism = 1 };

        TorrentManifest manifest = await ManifestBuilder.CreateAsync(path, options, TestContext.Current.CancellationToken);

        AssertEveryPieceHashIsItsBytesHash(manifest, image);
        Assert.False(manifest.IsZeroPiece(0));
        Assert.True(manifest.IsZeroPiece(1));
    }

    [Fact]
    public async Task SeekDataFindsTheDataOfASparseFile()
    {
        Requires.Linux();
        using var dir = new TempDirectory();
        string path = dir.File("holes.img");
        await WriteSparseAsync(path, 8 * MiB, [(2 * MiB, new byte[64 * KiB].Select(_ => (byte)1).ToArray())]);
        using SafeFileHandle file = File.OpenHandle(path);
        var holes = new FileHoles(file, 8 * MiB);
        Requires.That(holes.NextData(0) > 0, "the file system of the temp folder does not report holes.");

        Assert.Equal(2 * MiB, holes.NextData(0));
        Assert.Equal((2 * MiB) + KiB, holes.NextData((2 * MiB) + KiB));
        Assert.Equal(8 * MiB, holes.NextData((2 * MiB) + (64 * KiB)));
        Assert.True(holes.IsHole(0, 2 * MiB));
        Assert.False(holes.IsHole(0, (2 * MiB) + 1));
        Assert.True(holes.IsHole(3 * MiB, 5 * MiB));
    }

    [Fact]
    public async Task AHugeSparseImageIsDescribedInTimeProportionalToItsData()
    {
        // 1 TiB of holes around 1 MiB of data: read and hashed in full this would take many minutes.
        Requires.Linux();
        const long length = 1024L * 1024 * MiB;
        using var dir = new TempDirectory();
        string path = dir.File("huge.img");
        byte[] data = new byte[MiB];
        new Random(3).NextBytes(data);
        await WriteSparseAsync(path, length, [(512L * 1024 * MiB, data)]);
        using (SafeFileHandle file = File.OpenHandle(path))
        {
            Requires.That(new FileHoles(file, length).NextData(0) > 0, "the file system of the temp folder does not report holes.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(path, new ManifestBuilderOptions { Versions = TorrentVersions.Hybrid }, timeout.Token);

        Assert.Equal(2 * MiB, manifest.PieceLength);
        Assert.Equal(manifest.PieceCount - 1, manifest.ZeroPieceCount);
        int dataPiece = (int)(512L * 1024 * MiB / manifest.PieceLength);
        byte[] piece = new byte[manifest.PieceLength];
        data.CopyTo(piece, 0);
        Assert.True(manifest.VerifyPiece(dataPiece, piece, allHashes: true));
    }

    private static async Task<bool> SparseAndDenseAgreeAsync(int seed)
    {
        var random = new Random(seed);
        // Pieces from 16 KiB to 4 MiB, so an image file's pieces are read in one chunk or several (of 1 MiB).
        int pieceLength = 16 * KiB << random.Next(0, 9);
        int pieces = random.Next(1, (int)Math.Clamp(8 * MiB / pieceLength, 2, 24));
        long length = ((long)pieces * pieceLength) - (random.Next(2) == 0 ? 0 : random.Next(1, pieceLength));
        TorrentVersions versions = random.Next(3) switch { 0 => TorrentVersions.V1, 1 => TorrentVersions.V2, _ => TorrentVersions.Hybrid };

        // Runs of random data, some of them written zeros (allocated, so only their bytes say they are zero), at
        // offsets aligned to the file system's blocks or not, with holes between them.
        byte[] image = new byte[length];
        var runs = new List<(long Offset, byte[] Bytes)>();
        for (int r = random.Next(0, 6); r > 0; r--)
        {
            long offset = random.Next(2) == 0 ? random.NextInt64(length) / 4096 * 4096 : random.NextInt64(length);
            byte[] bytes = new byte[(int)Math.Min(length - offset, random.Next(1, (int)Math.Min(3 * pieceLength, 2 * MiB)))];
            if (random.Next(3) != 0)
            {
                random.NextBytes(bytes);
                bytes[0] |= 1;
            }

            bytes.CopyTo(image, offset);
            runs.Add((offset, bytes));
        }

        using var dir = new TempDirectory();
        string sparse = dir.File("sparse.img"), dense = dir.File("dense.img");
        await WriteSparseAsync(sparse, length, runs);
        await File.WriteAllBytesAsync(dense, image);
        var options = new ManifestBuilderOptions
        {
            PieceLength = pieceLength,
            Name = "image",
            Versions = versions,
            MaxDegreeOfParallelism = random.Next(1, 4),
            ReadChunkSize = 16 * KiB << random.Next(0, 6),
        };

        byte[] fromSparse = (await ManifestBuilder.CreateAsync(sparse, options)).ToTorrentBytes();
        byte[] fromDense = (await ManifestBuilder.CreateAsync(dense, options)).ToTorrentBytes();
        await using var device = FileBlockDevice.Open(sparse, new FileBlockDeviceOptions { ReadOnly = true });
        byte[] fromDevice = (await ManifestBuilder.CreateAsync(device, options)).ToTorrentBytes();
        TorrentManifest fromMemory = await ManifestBuilder.CreateAsync(image, "image", options);

        Assert.Equal(fromMemory.ToTorrentBytes(), fromSparse);
        Assert.Equal(fromMemory.ToTorrentBytes(), fromDense);
        Assert.Equal(fromMemory.ToTorrentBytes(), fromDevice);
        AssertEveryPieceHashIsItsBytesHash(fromMemory, image);
        return true;
    }

    // The reference: SHA-1 and merkle roots of each piece's bytes, computed by the one-shot functions, no shortcut.
    private static void AssertEveryPieceHashIsItsBytesHash(TorrentManifest manifest, byte[] image)
    {
        int leaves = manifest.PieceCount == 1 ? (int)MerkleTree.RoundUpToPowerOfTwo(MerkleTree.BlockCount(image.Length)) : manifest.PieceLength / MerkleTree.BlockSize;
        byte[] roots = new byte[manifest.PieceCount * MerkleTree.HashSize];
        for (int i = 0; i < manifest.PieceCount; i++)
        {
            ReadOnlySpan<byte> piece = image.AsSpan((int)manifest.GetPieceOffset(i), manifest.GetPieceSize(i));
            MerkleTree.ComputeRoot(piece, leaves, roots.AsSpan(i * MerkleTree.HashSize, MerkleTree.HashSize));
            if (manifest.Versions.HasFlag(TorrentVersions.V1))
            {
                Assert.Equal(SHA1.HashData(piece), manifest.GetPieceHashV1(i).ToArray());
            }

            if (manifest.HasPieceLayer)
            {
                Assert.Equal(roots.AsSpan(i * MerkleTree.HashSize, MerkleTree.HashSize).ToArray(), manifest.GetPieceHashV2(i).ToArray());
            }
        }

        if (manifest.Versions.HasFlag(TorrentVersions.V2))
        {
            byte[] root = new byte[MerkleTree.HashSize];
            int height = System.Numerics.BitOperations.Log2((uint)leaves);
            MerkleTree.ReduceLayer(roots, manifest.PieceCount, MerkleTree.RoundUpToPowerOfTwo(manifest.PieceCount), height, root);
            Assert.Equal(root, manifest.PiecesRoot.ToArray());
        }
    }

    // A file of the given length that holds only the given runs; everything else is a hole.
    private static async Task WriteSparseAsync(string path, long length, IEnumerable<(long Offset, byte[] Bytes)> runs)
    {
        using SafeFileHandle file = File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write);
        RandomAccess.SetLength(file, length);
        foreach ((long offset, byte[] bytes) in runs)
        {
            await RandomAccess.WriteAsync(file, bytes, offset);
        }
    }
}

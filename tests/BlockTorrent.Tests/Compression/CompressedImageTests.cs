using System.Security.Cryptography;
using BlockTorrent.Compression;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using BlockTorrent.Tests.Swarm;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Compression;

public sealed class CompressedImageTests : IDisposable
{
    private const int PieceLength = 64 * 1024;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task TheManifestRecordsTheRawLengthAndHashAndTheFileIsSmallerThanTheImage()
    {
        var (image, manifest, compressed) = await CreateAsync(6 * 1024 * 1024);

        CompressedImage layout = CompressedImage.FromManifest(manifest)!;
        Assert.Equal(CompressedImage.ZstdFormat, layout.Format);
        Assert.Equal(image.Length, layout.RawLength);
        Assert.Equal(SHA256.HashData(image), layout.RawSha256.ToArray());
        Assert.Equal(compressed.Length, manifest.Length);
        Assert.True(layout.Ratio > 2, $"the ratio is {layout.Ratio:F2}");
        Assert.True(layout.ZeroChunkCount > 0, "the test image has zero chunks");
    }

    [Fact]
    public async Task TheFileIsWithinAFifthOfOneZstdStreamOfTheWholeImageAtTheSameLevel()
    {
        var (image, manifest, compressed) = await CreateAsync(6 * 1024 * 1024, pieceLength: 256 * 1024);
        using var compressor = new ZstdSharp.Compressor(CompressedImage.FromManifest(manifest)!.CompressionLevel);

        int stream = compressor.Wrap(image).Length;

        // Frames packed whole into pieces of twice their size (the layout before) made files a third larger than this.
        Assert.True(compressed.Length < stream * 1.2, $"the file is {compressed.Length} bytes; one zstd stream of the image is {stream}");
    }

    [Fact]
    public async Task AManifestOfTheEarlierLayoutIsRefusedWithHowToMakeItAgain()
    {
        var (_, manifest, _) = await CreateAsync(1024 * 1024);
        TorrentManifest earlier = WithInfoEntry(manifest, "d11:compression4:zstd10:frame sizei65536e6:frames4:\0\0\0\u00016:lengthi1048576e5:leveli3e6:sha25632:" + new string('x', 32) + "11:zero frames2:\0\0e");

        var error = Assert.Throws<InvalidTorrentException>(() => CompressedImage.FromManifest(earlier));

        Assert.Contains("layout 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("blocktorrent create --compress zstd", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnyImageRoundTripsThroughItsPiecesInAnyOrderAndReencodesToTheSameFile() =>
        Prop.ForAll(
            ArbMap.Default.ArbFor<Tuple<byte[], byte, byte, int>>(),
            t => RoundTripsAsync(t.Item1, t.Item2, t.Item3, t.Item4).GetAwaiter().GetResult()).CheckSeeded(maxTest: 25);

    [Fact]
    public async Task ARawImageHasNoCompressedLayout()
    {
        var (_, manifest) = await SwarmTestImages.CreateAsync(1024 * 1024);

        Assert.Null(CompressedImage.FromManifest(manifest));
    }

    [Fact]
    public async Task TheFileIsOrdinaryZstdFramesThatDecodeToTheImageWithoutItsZeroChunks()
    {
        var (image, manifest, compressed) = await CreateAsync(3 * 1024 * 1024);
        CompressedImage layout = CompressedImage.FromManifest(manifest)!;

        using var decompressor = new ZstdSharp.Decompressor();
        byte[] decoded = decompressor.Unwrap(compressed).ToArray();

        byte[] expected = [.. Enumerable.Range(0, layout.ChunkCount).Where(c => !layout.IsZeroChunk(c)).SelectMany(c => image.Skip(c * layout.ChunkSize).Take(layout.ChunkSize))];
        Assert.Equal(expected, decoded);
    }

    [Fact]
    public async Task EveryPieceIsOneZstdFrameOfItsRawRangeThenPadding()
    {
        var (_, manifest, compressed) = await CreateAsync(3 * 1024 * 1024);
        CompressedImage layout = CompressedImage.FromManifest(manifest)!;

        for (int piece = 0; piece < manifest.PieceCount; piece++)
        {
            ReadOnlySpan<byte> data = compressed.AsSpan((int)manifest.GetPieceOffset(piece), manifest.GetPieceSize(piece));
            int frame = ZstdFrames.FrameLength(data);
            Assert.Equal((ulong)layout.PieceRawLength(piece), ZstdSharp.Decompressor.GetDecompressedSize(data[..frame]));
            Assert.True(frame == data.Length || ZstdFrames.SkippableLength(data[frame..]) == data.Length - frame, $"piece {piece} is not one frame and one skippable frame");
        }
    }

    [Fact]
    public async Task EveryPieceDecodesOnItsOwnInAnyOrderOntoTheRawDevice()
    {
        var (image, manifest, compressed) = await CreateAsync(6 * 1024 * 1024);
        byte[] garbage = new byte[image.Length];
        new Random(3).NextBytes(garbage);
        var raw = new MemoryBlockDevice(garbage);
        await using var device = new CompressedImageDevice(CompressedImage.FromManifest(manifest)!, raw);

        await device.ZeroChunksAsync(knownZeroed: false, TestContext.Current.CancellationToken);
        foreach (int piece in Enumerable.Range(0, manifest.PieceCount).OrderBy(p => (p * 7919) % 13))
        {
            long offset = manifest.GetPieceOffset(piece);
            await device.WriteAsync(offset, compressed.AsMemory((int)offset, manifest.GetPieceSize(piece)), TestContext.Current.CancellationToken);
        }

        Assert.Equal(image, raw.Contents.ToArray());
        await device.VerifyRawAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task ATargetReencodesEveryPieceToTheBytesOfTheCompressedFile()
    {
        var (image, manifest, compressed) = await CreateAsync(6 * 1024 * 1024);
        await using var device = new CompressedImageDevice(CompressedImage.FromManifest(manifest)!, new MemoryBlockDevice(image));

        byte[] whole = new byte[compressed.Length];
        int read = await device.ReadAsync(0, whole, TestContext.Current.CancellationToken);

        Assert.Equal(compressed.Length, read);
        Assert.Equal(compressed, whole);
    }

    [Fact]
    public async Task APieceWhoseRawBytesChangedReencodesToBytesThatFailItsHash()
    {
        var (image, manifest, _) = await CreateAsync(6 * 1024 * 1024);
        CompressedImage layout = CompressedImage.FromManifest(manifest)!;
        int piece = manifest.PieceCount / 2;
        byte[] changed = (byte[])image.Clone();
        changed[layout.RunAt(piece, 0, int.MaxValue).RawOffset + 100] ^= 0x5A;
        await using var device = new CompressedImageDevice(layout, new MemoryBlockDevice(changed));

        byte[] bytes = new byte[manifest.GetPieceSize(piece)];
        await device.ReadAsync(manifest.GetPieceOffset(piece), bytes, TestContext.Current.CancellationToken);

        Assert.False(manifest.VerifyPiece(piece, bytes));
        Assert.True(manifest.VerifyPiece(piece + 1 < manifest.PieceCount ? piece + 1 : piece - 1, await ReadPieceAsync(device, manifest, piece + 1 < manifest.PieceCount ? piece + 1 : piece - 1)));
    }

    [Fact]
    public async Task ASeedOfTheCompressedFileDeploysTheRawImageBitExactSendingOnlyTheCompressedBytes()
    {
        var (image, manifest, compressed) = await CreateAsync(6 * 1024 * 1024);
        byte[] garbage = new byte[image.Length];
        new Random(5).NextBytes(garbage);

        var (target, result) = await LoopbackDeployTests.DeployFromOneSeedAsync(compressed, manifest, targetContents: garbage);

        Assert.Equal(image, target.Contents.ToArray());
        // Every compressed byte either travelled or was filled in locally (the padding blocks of the block map).
        Assert.Equal(compressed.Length, result.BytesDownloaded + result.BytesSatisfiedLocally);
        Assert.True(result.BytesDownloaded * 2 < image.Length, $"{result.BytesDownloaded} bytes moved for a {image.Length}-byte image");
    }

    [Fact]
    public async Task ADeployingTargetServesCompressedPiecesToTheNextTarget()
    {
        var (image, manifest, compressed) = await CreateAsync(4 * 1024 * 1024);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var first = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var second = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(compressed), null, cts.Token);
        var firstOptions = SwarmTestImages.From(seeder.LocalEndPoint);
        firstOptions.SeedAfter = TimeSpan.FromMinutes(5);
        Task<DeploymentResult> firstDeploy = first.DeployAsync(manifest, new MemoryBlockDevice(image.Length), firstOptions, null, cts.Token);

        // The second target knows only the first, which holds raw frames: every piece it gets, the first served compressed.
        var secondTarget = new MemoryBlockDevice(image.Length);
        DeploymentResult result = await second.DeployAsync(manifest, secondTarget, SwarmTestImages.From(first.LocalEndPoint), null, cts.Token);

        Assert.Equal(image, secondTarget.Contents.ToArray());
        Assert.Equal(0, result.HashFailures);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => firstDeploy);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Fact]
    public async Task ADeploymentWhoseRawBytesOnTheDeviceDoNotHashToTheManifestFails()
    {
        var (image, manifest, compressed) = await CreateAsync(2 * 1024 * 1024);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(compressed), null, cts.Token);
        var target = new CorruptingDevice(new MemoryBlockDevice(image.Length));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => deployer.DeployAsync(manifest, target, SwarmTestImages.From(seeder.LocalEndPoint), null, cts.Token));

        Assert.Contains("does not hash to the manifest's raw SHA-256", error.Message, StringComparison.Ordinal);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    private static async Task<byte[]> ReadPieceAsync(IBlockDevice device, TorrentManifest manifest, int piece)
    {
        byte[] bytes = new byte[manifest.GetPieceSize(piece)];
        await device.ReadAsync(manifest.GetPieceOffset(piece), bytes, TestContext.Current.CancellationToken);
        return bytes;
    }

    private static TorrentManifest WithInfoEntry(TorrentManifest manifest, string entry)
    {
        // The bencoded info dictionary with its blocktorrent entry replaced (the key sorts first).
        string info = System.Text.Encoding.Latin1.GetString(manifest.InfoDictionary.Span);
        int start = info.IndexOf("12:blocktorrentd", StringComparison.Ordinal) + "12:blocktorrent".Length;
        int end = info.IndexOf("e9:file tree", start, StringComparison.Ordinal) + 1;
        byte[] replaced = System.Text.Encoding.Latin1.GetBytes(info[..start] + entry + info[end..]);
        return TorrentManifest.Parse([.. "d4:info"u8.ToArray(), .. replaced, .. "e"u8.ToArray()]);
    }

    private async Task<bool> RoundTripsAsync(byte[] seedBytes, byte chunkShift, byte pieceShift, int seed)
    {
        // Images of zero runs, text and random bytes at odd lengths; chunks of 4 to 64 KiB, pieces of 16 to 128 KiB.
        var random = new Random(seed);
        int length = 1 + random.Next(1, 3 * 1024 * 1024);
        byte[] image = new byte[length];
        for (int offset = 0; offset < length;)
        {
            int run = Math.Min(length - offset, random.Next(1, 300_000));
            switch (random.Next(3))
            {
                case 0:
                    break;
                case 1:
                    random.NextBytes(image.AsSpan(offset, run));
                    break;
                default:
                    CompressibleImage.Create(run, seed: seedBytes.Length + offset).CopyTo(image, offset);
                    break;
            }

            offset += run;
        }

        var options = new CompressedImageOptions { ChunkSize = 4096 << (chunkShift % 5) };
        var (manifest, compressed) = await BuildAsync(image, options, 16 * 1024 << (pieceShift % 4));
        CompressedImage layout = CompressedImage.FromManifest(manifest)!;
        var raw = new MemoryBlockDevice(image.Length);
        await using (var device = new CompressedImageDevice(layout, raw))
        {
            await device.ZeroChunksAsync(knownZeroed: true, TestContext.Current.CancellationToken);
            foreach (int piece in Enumerable.Range(0, manifest.PieceCount).OrderBy(_ => random.Next()))
            {
                await device.WriteAsync(manifest.GetPieceOffset(piece), compressed.AsMemory((int)manifest.GetPieceOffset(piece), manifest.GetPieceSize(piece)), TestContext.Current.CancellationToken);
            }
        }

        // A fresh device keeps no decoded pieces, so every piece read back is re-encoded from the raw bytes.
        await using var reencoding = new CompressedImageDevice(layout, raw);
        byte[] whole = new byte[compressed.Length];
        await reencoding.ReadAsync(0, whole, TestContext.Current.CancellationToken);
        return raw.Contents.Span.SequenceEqual(image) && whole.AsSpan().SequenceEqual(compressed);
    }

    private Task<(byte[] Image, TorrentManifest Manifest, byte[] Compressed)> CreateAsync(int length, int pieceLength = PieceLength) =>
        CreateAsync(CompressibleImage.Create(length, seed: length), pieceLength);

    private async Task<(byte[] Image, TorrentManifest Manifest, byte[] Compressed)> CreateAsync(byte[] image, int pieceLength)
    {
        var (manifest, compressed) = await BuildAsync(image, CompressedImageOptions.Default, pieceLength);
        return (image, manifest, compressed);
    }

    private async Task<(TorrentManifest Manifest, byte[] Compressed)> BuildAsync(byte[] image, CompressedImageOptions options, int pieceLength)
    {
        string imagePath = _directory.File("image.raw");
        string output = _directory.File("image.raw.btz");
        await File.WriteAllBytesAsync(imagePath, image, TestContext.Current.CancellationToken);
        TorrentManifest manifest = await CompressedImageBuilder.CreateAsync(
            imagePath,
            output,
            options,
            new ManifestBuilderOptions { PieceLength = pieceLength },
            TestContext.Current.CancellationToken);
        return (manifest, await File.ReadAllBytesAsync(output, TestContext.Current.CancellationToken));
    }

    /// <summary>A disk that flips one bit of the first raw write it is given: the bytes it holds are not what it was sent.</summary>
    private sealed class CorruptingDevice(IBlockDevice inner) : PassThroughDevice(inner)
    {
        private int _corrupted;

        public override ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            if (data.Length > 0 && Interlocked.Exchange(ref _corrupted, 1) == 0)
            {
                byte[] copy = data.ToArray();
                copy[0] ^= 1;
                data = copy;
            }

            return Inner.WriteAsync(offset, data, cancellationToken);
        }
    }
}

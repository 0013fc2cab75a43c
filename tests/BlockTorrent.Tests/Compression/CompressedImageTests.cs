using System.Security.Cryptography;
using BlockTorrent.Compression;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using BlockTorrent.Tests.Swarm;

namespace BlockTorrent.Tests.Compression;

public sealed class CompressedImageTests : IDisposable
{
    private const int FrameSize = 64 * 1024;
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
        Assert.True(layout.ZeroFrameCount > 0, "the test image has zero frames");
    }

    [Fact]
    public async Task ARawImageHasNoCompressedLayout()
    {
        var (_, manifest) = await SwarmTestImages.CreateAsync(1024 * 1024);

        Assert.Null(CompressedImage.FromManifest(manifest));
    }

    [Fact]
    public async Task TheFileIsOrdinaryZstdFramesThatDecodeToTheImageWithoutItsZeroFrames()
    {
        var (image, manifest, compressed) = await CreateAsync(3 * 1024 * 1024);
        CompressedImage layout = CompressedImage.FromManifest(manifest)!;

        using var decompressor = new ZstdSharp.Decompressor();
        byte[] decoded = decompressor.Unwrap(compressed).ToArray();

        byte[] expected = [.. Enumerable.Range(0, layout.FrameCount).Where(f => !layout.IsZeroFrame(f)).SelectMany(f => image.Skip(f * FrameSize).Take(FrameSize))];
        Assert.Equal(expected, decoded);
    }

    [Fact]
    public async Task EveryPieceDecodesOnItsOwnInAnyOrderOntoTheRawDevice()
    {
        var (image, manifest, compressed) = await CreateAsync(6 * 1024 * 1024);
        byte[] garbage = new byte[image.Length];
        new Random(3).NextBytes(garbage);
        var raw = new MemoryBlockDevice(garbage);
        await using var device = new CompressedImageDevice(CompressedImage.FromManifest(manifest)!, raw);

        await device.ZeroFramesAsync(knownZeroed: false, TestContext.Current.CancellationToken);
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
    public async Task APieceWhoseRawFramesChangedReencodesToBytesThatFailItsHash()
    {
        var (image, manifest, _) = await CreateAsync(6 * 1024 * 1024);
        CompressedImage layout = CompressedImage.FromManifest(manifest)!;
        int piece = Enumerable.Range(0, manifest.PieceCount).First(p => layout.FramesOf(p).Length > 0);
        byte[] changed = (byte[])image.Clone();
        changed[layout.FrameOffset(layout.FramesOf(piece)[0]) + 100] ^= 0x5A;
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

    private async Task<(byte[] Image, TorrentManifest Manifest, byte[] Compressed)> CreateAsync(int length)
    {
        byte[] image = CompressibleImage.Create(length, seed: length);
        string imagePath = _directory.File("image.raw");
        string output = _directory.File("image.raw.btz");
        await File.WriteAllBytesAsync(imagePath, image, TestContext.Current.CancellationToken);
        TorrentManifest manifest = await CompressedImageBuilder.CreateAsync(
            imagePath,
            output,
            new CompressedImageOptions { FrameSize = FrameSize },
            new ManifestBuilderOptions { PieceLength = CompressedImageBuilder.MinPieceLength(FrameSize) },
            TestContext.Current.CancellationToken);
        return (image, manifest, await File.ReadAllBytesAsync(output, TestContext.Current.CancellationToken));
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

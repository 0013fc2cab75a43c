using System.IO.Compression;
using System.Security.Cryptography;
using BlockTorrent.Compression;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Scratch;
using BlockTorrent.Testing;
using BlockTorrent.Tests.Swarm;
using ZstdSharp;

namespace BlockTorrent.Tests.Compression;

public sealed class StreamImageTests : IDisposable
{
    private const int PieceLength = 64 * 1024;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Theory]
    [InlineData(StreamFormat.Zstd)]
    [InlineData(StreamFormat.Gzip)]
    public async Task TheManifestOfAStreamRecordsItsFormatRawLengthAndRawHash(StreamFormat format)
    {
        byte[] image = CompressibleImage.Create(3 * 1024 * 1024, seed: 3);
        string path = await WriteStreamAsync(image, format);

        TorrentManifest manifest = await StreamImageBuilder.CreateAsync(path, new ManifestBuilderOptions { PieceLength = PieceLength }, TestContext.Current.CancellationToken);

        StreamImage stream = Assert.IsType<StreamImage>(StreamImage.FromManifest(manifest));
        Assert.Equal(format, stream.Format);
        Assert.Equal(image.Length, stream.RawLength);
        Assert.Equal(SHA256.HashData(image), stream.RawSha256.ToArray());
        Assert.Equal(new FileInfo(path).Length, manifest.Length);
        Assert.Null(CompressedImage.FromManifest(manifest));
    }

    [Fact]
    public async Task AFileThatIsNoKnownStreamIsRefusedAtCreate()
    {
        string path = _directory.File("image.raw");
        await File.WriteAllBytesAsync(path, CompressibleImage.Create(1024 * 1024), TestContext.Current.CancellationToken);

        await Assert.ThrowsAsync<ArgumentException>(() => StreamImageBuilder.CreateAsync(path, null, TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData(StreamFormat.Zstd)]
    [InlineData(StreamFormat.Gzip)]
    public async Task AStreamDeploysBitExactThroughScratchFarSmallerThanTheImageAndScratchNeverExceedsItsBound(StreamFormat format)
    {
        byte[] image = CompressibleImage.Create(8 * 1024 * 1024, seed: 8);
        (TorrentManifest manifest, byte[] compressed) = await CreateAsync(image, format);
        Assert.True(compressed.Length > 8 * PieceLength, "the stream must be several times the scratch bound");
        var stores = new List<CountingScratchStore>();
        var options = new DeployOptions { ScratchSize = 4 * PieceLength };
        options.ScratchStoreFactory = (capacity, pieceLength) =>
        {
            var store = new CountingScratchStore(new MemoryScratchStore(capacity));
            stores.Add(store);
            return store;
        };

        // A default seed (adaptive super-seed) offers the target only pieces inside the window it tells: one that
        // offered pieces outside it would leave the decoder waiting for a piece never offered.
        var (target, result) = await DeployFromDefaultSeedAsync(compressed, manifest, options, image.Length);

        Assert.Equal(image, target.Contents.ToArray());
        CountingScratchStore scratch = Assert.Single(stores);
        Assert.InRange(scratch.PeakBytes, 1, 4 * PieceLength);
        Assert.Equal(scratch.PeakBytes, result.ScratchPeakBytes);
        Assert.Equal(compressed.Length, result.BytesDownloaded);
    }

    [Fact]
    public async Task PiecesThatRepeatInAStreamAreFetchedOnceAndDecodedFromTheirFirstCopy()
    {
        // gzip members of exactly one piece each, the same member four times in a row: pieces 1-3 repeat piece 0.
        (byte[] member, byte[] repeated) = GzipMemberOfLength(PieceLength);
        byte[] tail = CompressibleImage.Create(1024 * 1024, seed: 9);
        using var file = new MemoryStream();
        for (int i = 0; i < 4; i++)
        {
            file.Write(member);
        }

        using (var gzip = new GZipStream(file, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(tail);
        }

        byte[] image = [.. repeated, .. repeated, .. repeated, .. repeated, .. tail];
        string path = _directory.File("repeats.img.gz");
        await File.WriteAllBytesAsync(path, file.ToArray(), TestContext.Current.CancellationToken);
        TorrentManifest manifest = await StreamImageBuilder.CreateAsync(path, new ManifestBuilderOptions { PieceLength = PieceLength }, TestContext.Current.CancellationToken);
        Assert.Equal(3, manifest.DuplicatePieceCount);

        var (target, result) = await DeployFromDefaultSeedAsync(file.ToArray(), manifest, new DeployOptions { ScratchSize = 2 * PieceLength }, image.Length);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.Equal(file.Length - (3 * PieceLength), result.BytesDownloaded);
        Assert.InRange(result.ScratchPeakBytes, 1, 2 * PieceLength);
    }

    [Fact]
    public async Task AStreamWhoseRawBytesDoNotMatchTheManifestFailsTheDeployment()
    {
        byte[] image = CompressibleImage.Create(2 * 1024 * 1024, seed: 4);
        (TorrentManifest manifest, byte[] compressed) = await CreateAsync(image, StreamFormat.Gzip);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(compressed), null, cts.Token);
        var target = new FlippingDevice(new MemoryBlockDevice(image.Length));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => deployer.DeployAsync(manifest, target, SwarmTestImages.From(seeder.LocalEndPoint), null, cts.Token));

        Assert.Contains("raw SHA-256", error.Message, StringComparison.Ordinal);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Fact]
    public async Task ScratchThatCannotHoldOnePieceIsRefusedBeforeAnythingIsWritten()
    {
        byte[] image = CompressibleImage.Create(1024 * 1024, seed: 5);
        (TorrentManifest manifest, _) = await CreateAsync(image, StreamFormat.Zstd);
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        var target = new MemoryBlockDevice(image.Length);

        await Assert.ThrowsAsync<ArgumentException>(() => deployer.DeployAsync(manifest, target, new DeployOptions { ScratchSize = PieceLength - 1 }, null, TestContext.Current.CancellationToken));

        Assert.False(target.Contents.Span.ContainsAnyExcept((byte)0));
    }

    [Fact]
    public async Task SeveralStreamTargetsDeployTogetherFromADefaultSeedEachWithinItsScratch()
    {
        // The default seed super-seeds, offering each target only pieces inside the window it told (bt_stream_window),
        // while the targets also trade pieces among themselves, each through a window of three pieces.
        byte[] image = CompressibleImage.Create(12 * 1024 * 1024, seed: 12);
        (TorrentManifest manifest, byte[] compressed) = await CreateAsync(image, StreamFormat.Zstd);
        Assert.True(compressed.Length > 24 * PieceLength, "the stream must be many times the window");
        DeployOptions[] options = [.. Enumerable.Range(0, 3).Select(_ => new DeployOptions { ScratchSize = 3 * PieceLength })];

        var (targets, results) = await DeployFromDefaultSeedAsync(compressed, manifest, options, image.Length);

        Assert.All(targets, target => Assert.True(image.AsSpan().SequenceEqual(target.Contents.Span), "a target's raw image differs"));
        Assert.All(results, result => Assert.InRange(result.ScratchPeakBytes, 1, 3 * PieceLength));
    }

    /// <summary>Seeds the stream with the default seed options (adaptive super-seeding) and deploys it onto a fresh memory device.</summary>
    private static async Task<(MemoryBlockDevice Target, DeploymentResult Result)> DeployFromDefaultSeedAsync(byte[] compressed, TorrentManifest manifest, DeployOptions options, int rawLength)
    {
        var (targets, results) = await DeployFromDefaultSeedAsync(compressed, manifest, [options], rawLength);
        return (targets[0], results[0]);
    }

    /// <summary>
    /// Seeds the stream with the default seed options (adaptive super-seeding) and deploys it onto one fresh memory
    /// device per options, all at once, each target knowing the seed and the other targets.
    /// </summary>
    private static async Task<(MemoryBlockDevice[] Targets, DeploymentResult[] Results)> DeployFromDefaultSeedAsync(byte[] compressed, TorrentManifest manifest, DeployOptions[] options, int rawLength)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        var deployers = new List<BlockTorrentClient>();
        try
        {
            Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(compressed), null, cts.Token);
            deployers.AddRange(options.Select(_ => new BlockTorrentClient(SwarmTestImages.Loopback())));
            MemoryBlockDevice[] targets = [.. options.Select(_ => new MemoryBlockDevice(rawLength))];
            for (int i = 0; i < options.Length; i++)
            {
                options[i].Peers.Add(seeder.LocalEndPoint);
                for (int j = 0; j < i; j++)
                {
                    options[i].Peers.Add(deployers[j].LocalEndPoint);
                }
            }

            DeploymentResult[] results = await Task.WhenAll(deployers.Select((d, i) => d.DeployAsync(manifest, targets[i], options[i], null, cts.Token)));
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
            return (targets, results);
        }
        finally
        {
            foreach (BlockTorrentClient deployer in deployers)
            {
                await deployer.DisposeAsync();
            }
        }
    }

    internal static byte[] Compress(byte[] image, StreamFormat format)
    {
        using var output = new MemoryStream();
        Stream encoder = format switch
        {
            StreamFormat.Zstd => new CompressionStream(output, 3, leaveOpen: true),
            StreamFormat.Gzip => new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        using (encoder)
        {
            encoder.Write(image);
        }

        return output.ToArray();
    }

    /// <summary>A gzip member of exactly <paramref name="length"/> bytes, stored (not compressed), and the raw bytes it holds.</summary>
    private static (byte[] Member, byte[] Raw) GzipMemberOfLength(int length)
    {
        int overhead = StoredGzip(new byte[length / 2]).Length - (length / 2);
        byte[] raw = RandomNumberGenerator.GetBytes(length - overhead);
        byte[] member = StoredGzip(raw);
        Assert.Equal(length, member.Length);
        return (member, raw);
    }

    private static byte[] StoredGzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.NoCompression, leaveOpen: true))
        {
            gzip.Write(raw);
        }

        return output.ToArray();
    }

    private async Task<string> WriteStreamAsync(byte[] image, StreamFormat format)
    {
        string path = _directory.File(format == StreamFormat.Zstd ? "image.img.zst" : "image.img.gz");
        await File.WriteAllBytesAsync(path, Compress(image, format), TestContext.Current.CancellationToken);
        return path;
    }

    private async Task<(TorrentManifest Manifest, byte[] Compressed)> CreateAsync(byte[] image, StreamFormat format)
    {
        string path = await WriteStreamAsync(image, format);
        TorrentManifest manifest = await StreamImageBuilder.CreateAsync(path, new ManifestBuilderOptions { PieceLength = PieceLength }, TestContext.Current.CancellationToken);
        return (manifest, await File.ReadAllBytesAsync(path, TestContext.Current.CancellationToken));
    }

    /// <summary>A disk that flips one bit of the first write it is given.</summary>
    private sealed class FlippingDevice(IBlockDevice inner) : PassThroughDevice(inner)
    {
        private int _flipped;

        public override ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            if (data.Length > 0 && Interlocked.Exchange(ref _flipped, 1) == 0)
            {
                byte[] copy = data.ToArray();
                copy[^1] ^= 1;
                data = copy;
            }

            return Inner.WriteAsync(offset, data, cancellationToken);
        }
    }
}

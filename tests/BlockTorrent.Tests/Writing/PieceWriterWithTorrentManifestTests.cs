using System.Diagnostics.Metrics;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using BlockTorrent.Writing;

namespace BlockTorrent.Tests.Writing;

public sealed class PieceWriterWithTorrentManifestTests
{
    private const int PieceLength = 64 * 1024;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task AnImageWithZeroAndDuplicatePiecesIsRebuiltFromItsCanonicalPiecesAlone(TorrentVersions versions)
    {
        var generator = new TestImage { Length = (4L << 20) + 12345, BlockSize = PieceLength, Seed = 3, RepeatBlockPercent = 30 };
        byte[] image = generator.ToArray();
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice(image), new ManifestBuilderOptions { PieceLength = PieceLength, Versions = versions, Name = "t.img" }, Token);
        Assert.True(manifest.ZeroPieceCount > 0 && manifest.DuplicatePieceCount > 0, $"the generated image should have zero and duplicate pieces: {manifest.ZeroPieceCount} zero, {manifest.DuplicatePieceCount} duplicate of {manifest.PieceCount}");
        using var dir = new TempDirectory();
        await using var device = FileBlockDevice.Create(dir.File("target.img"), image.Length);
        await using var writer = new PieceWriter(manifest, device);

        int[] canonical = [.. Enumerable.Range(0, manifest.PieceCount).Where(p => !manifest.IsZeroPiece(p) && manifest.GetCanonicalPiece(p) == p)];
        new Random(5).Shuffle(canonical);
        await Task.WhenAll(canonical.Select(p => writer.WriteAsync(p, image.AsMemory((int)manifest.GetPieceOffset(p), manifest.GetPieceSize(p)), cancellationToken: Token)));
        int zeros = await writer.SatisfyZeroPiecesAsync(Token);
        var statistics = await writer.CompleteAsync(Token);

        Assert.Equal(manifest.ZeroPieceCount, zeros);
        Assert.Equal(manifest.PieceCount, statistics.PiecesOnDevice);
        Assert.Equal(manifest.DuplicatePieceCount, statistics.DuplicatesWritten);
        Assert.Equal(image, await File.ReadAllBytesAsync(dir.File("target.img"), Token));
    }

    [Fact]
    public async Task AHybridImagesResumeStateIsKeyedByItsV1InfoHash()
    {
        byte[] image = new TestImage { Length = 1 << 20, BlockSize = PieceLength }.ToArray();
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice(image), new ManifestBuilderOptions { PieceLength = PieceLength, Versions = TorrentVersions.Hybrid, Name = "h.img" }, Token);
        await using var writer = new PieceWriter(manifest, new MemoryBlockDevice(image.Length));

        ResumeState state = writer.CreateResumeState();

        Assert.Equal(manifest.InfoHashV1, state.InfoHash);
    }

    [Fact]
    public async Task VerifiedAndRejectedPiecesAreCountedOnTheBlockTorrentMeter()
    {
        byte[] image = TestImages.Build("rr");
        var manifest = new HashListManifest(image, PieceLength);
        long verified = 0, failed = 0, written = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "BlockTorrent")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            switch (instrument.Name)
            {
                case "blocktorrent.pieces.verified": Interlocked.Add(ref verified, value); break;
                case "blocktorrent.pieces.failed": Interlocked.Add(ref failed, value); break;
                case "blocktorrent.bytes.written": Interlocked.Add(ref written, value); break;
            }
        });
        listener.Start();
        await using var writer = new PieceWriter(manifest, new MemoryBlockDevice(image.Length));

        await writer.WriteAsync(0, TestImages.Piece(image, PieceLength, 0), cancellationToken: Token);
        await writer.WriteAsync(1, new byte[PieceLength], cancellationToken: Token);

        // Other tests run in parallel and report on the same meter, so these are lower bounds.
        Assert.True(Interlocked.Read(ref verified) >= 1);
        Assert.True(Interlocked.Read(ref failed) >= 1);
        Assert.True(Interlocked.Read(ref written) >= PieceLength);
    }
}

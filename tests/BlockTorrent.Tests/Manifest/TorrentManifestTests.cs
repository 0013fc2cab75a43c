using System.Security.Cryptography;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Manifest;

public sealed class TorrentManifestTests
{
    private const int Piece = 16 * 1024;

    public static TheoryData<TorrentVersions> AllVersions => [TorrentVersions.V1, TorrentVersions.V2, TorrentVersions.Hybrid];

    private static ManifestBuilderOptions Options(TorrentVersions versions, int pieceLength = Piece) => new() { Versions = versions, PieceLength = pieceLength };

    private static TestImage Image(long length, int seed = 7) => new() { Length = length, Seed = seed, BlockSize = Piece, ZeroRunBlocks = 4 };

    [Theory]
    [MemberData(nameof(AllVersions))]
    public async Task ATorrentRoundTripsThroughItsBytes(TorrentVersions versions)
    {
        byte[] image = Image(40 * Piece + 1234).ToArray();
        var options = Options(versions);
        options.Trackers.Add("http://tracker.example/announce");
        options.Trackers.Add("udp://tracker.example:6969");
        options.WebSeeds.Add("http://seed.example/image.raw");
        options.Comment = "test image";
        options.CreatedBy = "BlockTorrent tests";
        options.CreationDate = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);
        options.IsPrivate = true;
        TorrentManifest built = await ManifestBuilder.CreateAsync(image, "image.raw", options, TestContext.Current.CancellationToken);

        TorrentManifest parsed = TorrentManifest.Parse(built.ToTorrentBytes());

        Assert.Equal(built.InfoHashV1, parsed.InfoHashV1);
        Assert.Equal(built.InfoHashV2, parsed.InfoHashV2);
        Assert.Equal(versions, parsed.Versions);
        Assert.Equal("image.raw", parsed.Name);
        Assert.Equal(image.Length, parsed.Length);
        Assert.Equal(41, parsed.PieceCount);
        Assert.Equal(["http://tracker.example/announce", "udp://tracker.example:6969"], parsed.Trackers);
        Assert.Equal(["http://seed.example/image.raw"], parsed.WebSeeds);
        Assert.Equal("test image", parsed.Comment);
        Assert.Equal("BlockTorrent tests", parsed.CreatedBy);
        Assert.Equal(options.CreationDate, parsed.CreationDate);
        Assert.True(parsed.IsPrivate);
        Assert.Equal(built.ToTorrentBytes(), parsed.ToTorrentBytes());
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public async Task TheInfoHashesHashTheInfoDictionaryBytes(TorrentVersions versions)
    {
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(Image(5 * Piece).ToArray(), "x", Options(versions), TestContext.Current.CancellationToken);

        if (versions.HasFlag(TorrentVersions.V1))
        {
            Assert.Equal(SHA1.HashData(manifest.InfoDictionary.Span), manifest.InfoHashV1!.Value.Span.ToArray());
        }
        else
        {
            Assert.Null(manifest.InfoHashV1);
        }

        if (versions.HasFlag(TorrentVersions.V2))
        {
            Assert.Equal(SHA256.HashData(manifest.InfoDictionary.Span), manifest.InfoHashV2!.Value.Span.ToArray());
        }
        else
        {
            Assert.Null(manifest.InfoHashV2);
        }
    }

    [Theory]
    [InlineData(TorrentVersions.V1, 40 * Piece + 1234)]
    [InlineData(TorrentVersions.V2, 40 * Piece + 1234)]
    [InlineData(TorrentVersions.Hybrid, 40 * Piece + 1234)]
    [InlineData(TorrentVersions.V2, 3 * Piece)]
    [InlineData(TorrentVersions.Hybrid, 1)]
    [InlineData(TorrentVersions.V2, 5000)]
    public async Task EveryPieceVerifiesAndAnyCorruptedPieceDoesNot(TorrentVersions versions, int length)
    {
        byte[] image = Image(length).ToArray();
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(image, "x", Options(versions, 4 * Piece), TestContext.Current.CancellationToken);

        for (int i = 0; i < manifest.PieceCount; i++)
        {
            byte[] piece = image.AsSpan((int)manifest.GetPieceOffset(i), manifest.GetPieceSize(i)).ToArray();
            Assert.True(manifest.VerifyPiece(i, piece), $"piece {i}");
            piece[^1] ^= 1;
            Assert.False(manifest.VerifyPiece(i, piece), $"corrupted piece {i}");
        }
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public async Task ThePieceMustHaveExactlyItsSize(TorrentVersions versions)
    {
        byte[] image = Image((2 * Piece) + 100).ToArray();
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(image, "x", Options(versions), TestContext.Current.CancellationToken);

        Assert.False(manifest.VerifyPiece(2, image.AsSpan(2 * Piece, 99)));
        Assert.False(manifest.VerifyPiece(2, new byte[Piece]));
        Assert.Throws<ArgumentOutOfRangeException>(() => manifest.VerifyPiece(3, image.AsSpan(2 * Piece)));
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public async Task ZeroAndDuplicatePiecesAreFoundFromTheHashesAlone(TorrentVersions versions)
    {
        TestImage layout = Image((200 * Piece) + 700, seed: 3);
        byte[] image = layout.ToArray();
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(image, "x", Options(versions), TestContext.Current.CancellationToken);

        var firstByContent = new Dictionary<string, int>();
        int zeros = 0, duplicates = 0;
        for (int i = 0; i < manifest.PieceCount; i++)
        {
            ReadOnlySpan<byte> piece = image.AsSpan((int)manifest.GetPieceOffset(i), manifest.GetPieceSize(i));
            bool zero = !piece.ContainsAnyExcept((byte)0);
            Assert.Equal(zero, manifest.IsZeroPiece(i));
            string key = Convert.ToHexString(SHA256.HashData(piece)) + piece.Length;
            int expected = zero ? i : firstByContent.TryAdd(key, i) ? i : firstByContent[key];
            zeros += zero ? 1 : 0;
            duplicates += !zero && expected != i ? 1 : 0;
            Assert.Equal(zero ? i : expected, manifest.IsZeroPiece(i) ? i : manifest.GetCanonicalPiece(i));
        }

        Assert.True(zeros > 10, "the test image has zero pieces");
        Assert.True(duplicates > 10, "the test image has duplicate pieces");
        Assert.Equal(zeros, manifest.ZeroPieceCount);
        Assert.Equal(duplicates, manifest.DuplicatePieceCount);
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public async Task AShortZeroLastPieceIsAZeroPiece(TorrentVersions versions)
    {
        byte[] image = new byte[(3 * Piece) + 10];
        image[5] = 1;
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(image, "x", Options(versions), TestContext.Current.CancellationToken);

        Assert.Equal([false, true, true, true], Enumerable.Range(0, 4).Select(manifest.IsZeroPiece));
        Assert.Equal(3, manifest.ZeroPieceCount);
        Assert.Equal(0, manifest.DuplicatePieceCount);
    }

    [Theory]
    [MemberData(nameof(AllVersions))]
    public async Task AManifestWithOtherTrackersKeepsItsInfoHashesAndEverythingElse(TorrentVersions versions)
    {
        ManifestBuilderOptions options = Options(versions);
        options.Trackers.Add("http://old.invalid/announce");
        options.Comment = "kept";
        options.CreatedBy = "kept too";
        TorrentManifest original = await ManifestBuilder.CreateAsync(Image(5 * Piece).ToArray(), "disk.img", options, TestContext.Current.CancellationToken);

        TorrentManifest moved = TorrentManifest.Parse(original.WithTrackers(["http://new.invalid/announce", "udp://also.invalid:6969"]).ToTorrentBytes());

        Assert.Equal(["http://new.invalid/announce", "udp://also.invalid:6969"], moved.Trackers);
        Assert.Equal(original.InfoHashV1, moved.InfoHashV1);
        Assert.Equal(original.InfoHashV2, moved.InfoHashV2);
        Assert.Equal(original.InfoDictionary.ToArray(), moved.InfoDictionary.ToArray());
        Assert.Equal(original.HasPieceLayer, moved.HasPieceLayer);
        Assert.Equal((original.Comment, original.CreatedBy, original.CreationDate), (moved.Comment, moved.CreatedBy, moved.CreationDate));
    }

    [Fact]
    public async Task VerifyPieceAllocatesNothing()
    {
        byte[] image = Image(8 * Piece * 4).ToArray();
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(image, "x", Options(TorrentVersions.Hybrid, 4 * Piece), TestContext.Current.CancellationToken);
        manifest.VerifyPiece(1, image.AsSpan(4 * Piece, 4 * Piece));
        long before = GC.GetAllocatedBytesForCurrentThread();

        bool ok = manifest.VerifyPiece(1, image.AsSpan(4 * Piece, 4 * Piece));

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(ok);
    }

    [Fact]
    public async Task VerifyPieceGivesTheSameAnswersFromManyThreadsAtOnce()
    {
        byte[] image = Image(64 * Piece * 2).ToArray();
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(image, "x", Options(TorrentVersions.Hybrid, 2 * Piece), TestContext.Current.CancellationToken);
        int failures = 0;

        Parallel.For(0, manifest.PieceCount * 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, n =>
        {
            int i = n % manifest.PieceCount;
            if (!manifest.VerifyPiece(i, image.AsSpan((int)manifest.GetPieceOffset(i), manifest.GetPieceSize(i))))
            {
                Interlocked.Increment(ref failures);
            }
        });

        Assert.Equal(0, failures);
    }
}

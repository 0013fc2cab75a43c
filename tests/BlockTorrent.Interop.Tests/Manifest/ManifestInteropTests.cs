using System.Globalization;
using System.Text.RegularExpressions;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Manifest;

/// <summary>
/// Our .torrent files against those of programs nobody here wrote: the same image must give the same info-hashes,
/// and the clients must load what we write.
/// </summary>
public sealed partial class ManifestInteropTests
{
    // (image length, piece length): non-multiples of the piece, exact multiples, one short piece, one exact piece.
    private static readonly (long Length, int PieceLength)[] SizeList =
    [
        ((37 * 16384) + 123, 16384),
        ((1024 * 1024) + 5, 65536),
        (3 * 1024 * 1024, 262144),
        (5000, 16384),
        (65536, 65536),
        ((9 * 1024 * 1024) + 77777, 1048576),
        ((100 * 32768) + 1, 32768),
    ];

    // mktorrent accepts piece lengths from 2^15 only.
    public static TheoryData<long, int> MktorrentSizes()
    {
        var data = new TheoryData<long, int>();
        foreach (var (length, pieceLength) in SizeList.Where(s => s.PieceLength >= 32768))
        {
            data.Add(length, pieceLength);
        }

        return data;
    }

    public static TheoryData<string, long, int> ModesAndSizes()
    {
        var data = new TheoryData<string, long, int>();
        foreach (string mode in new[] { "v1", "v2", "hybrid" })
        {
            foreach (var (length, pieceLength) in SizeList)
            {
                data.Add(mode, length, pieceLength);
            }
        }

        return data;
    }

    private static TestImage ImageOf(long length, int pieceLength) => new()
    {
        Length = length,
        Seed = (int)(length % 1000),
        BlockSize = pieceLength,
        ZeroRunBlocks = 3,
    };

    private static TorrentVersions VersionsOf(string mode) => mode switch
    {
        "v1" => TorrentVersions.V1,
        "v2" => TorrentVersions.V2,
        _ => TorrentVersions.Hybrid,
    };

    private static async Task<(TempDirectory Dir, string Image)> WriteImageAsync(long length, int pieceLength)
    {
        var dir = new TempDirectory();
        string image = dir.File("image.raw");
        await ImageOf(length, pieceLength).WriteFileAsync(image, TestContext.Current.CancellationToken);
        return (dir, image);
    }

    [Theory]
    [MemberData(nameof(ModesAndSizes))]
    public async Task LibtorrentAndBlockTorrentGiveTheSameInfoHashes(string mode, long length, int pieceLength)
    {
        Requires.PythonLibtorrent();
        var (dir, image) = await WriteImageAsync(length, pieceLength);
        using (dir)
        {
            string theirs = dir.File("libtorrent.torrent");
            await Libtorrent.CreateAsync(image, theirs, pieceLength, mode);

            TorrentManifest loaded = TorrentManifest.Load(theirs);
            TorrentManifest ours = await ManifestBuilder.CreateAsync(image, new ManifestBuilderOptions { PieceLength = pieceLength, Versions = VersionsOf(mode) }, TestContext.Current.CancellationToken);

            Assert.Equal(VersionsOf(mode), loaded.Versions);
            Assert.Equal(loaded.InfoHashV1, ours.InfoHashV1);
            Assert.Equal(loaded.InfoHashV2, ours.InfoHashV2);
            Assert.Equal(loaded.InfoDictionary.ToArray(), ours.InfoDictionary.ToArray());
            Assert.Equal(ours.ZeroPieceCount, loaded.ZeroPieceCount);
            Assert.Equal(ours.DuplicatePieceCount, loaded.DuplicatePieceCount);
            byte[] bytes = await File.ReadAllBytesAsync(image, TestContext.Current.CancellationToken);
            for (int i = 0; i < loaded.PieceCount; i++)
            {
                Assert.True(loaded.VerifyPiece(i, bytes.AsSpan((int)loaded.GetPieceOffset(i), loaded.GetPieceSize(i))), $"piece {i}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(ModesAndSizes))]
    public async Task LibtorrentLoadsOurTorrentsWithTheSameInfoHashes(string mode, long length, int pieceLength)
    {
        Requires.PythonLibtorrent();
        var (dir, image) = await WriteImageAsync(length, pieceLength);
        using (dir)
        {
            var options = new ManifestBuilderOptions { PieceLength = pieceLength, Versions = VersionsOf(mode), Comment = "interop", CreatedBy = "BlockTorrent" };
            options.Trackers.Add("http://127.0.0.1:1/announce");
            options.WebSeeds.Add("http://127.0.0.1:1/image.raw");
            TorrentManifest ours = await ManifestBuilder.CreateAsync(image, options, TestContext.Current.CancellationToken);
            string path = dir.File("ours.torrent");
            await ours.SaveAsync(path, TestContext.Current.CancellationToken);

            Dictionary<string, string> lt = await Libtorrent.ReadAsync(path);

            Assert.Equal(ours.InfoHashV1?.ToHex() ?? "-", lt["v1"]);
            Assert.Equal(ours.InfoHashV2?.ToHex() ?? "-", lt["v2"]);
            Assert.Equal(ours.PieceCount.ToString(CultureInfo.InvariantCulture), lt["pieces"]);
            if (mode != "v2")
            {
                // libtorrent counts a v2-only file as padded to whole pieces.
                Assert.Equal(length.ToString(CultureInfo.InvariantCulture), lt["size"]);
            }
            Assert.Equal("image.raw", lt["name"]);
        }
    }

    [Theory]
    [MemberData(nameof(MktorrentSizes))]
    public async Task MktorrentAndBlockTorrentGiveTheSameV1InfoHash(long length, int pieceLength)
    {
        string mktorrent = Requires.Program("mktorrent", "mktorrent");
        var (dir, image) = await WriteImageAsync(length, pieceLength);
        using (dir)
        {
            string theirs = dir.File("mktorrent.torrent");
            int log2 = System.Numerics.BitOperations.Log2((uint)pieceLength);
            (await ExternalProgram.RunAsync(mktorrent, ["-l", log2.ToString(CultureInfo.InvariantCulture), "-a", "http://127.0.0.1:1/announce", "-o", theirs, image], TimeSpan.FromMinutes(1), cancellationToken: TestContext.Current.CancellationToken))
                .EnsureSuccess("mktorrent");

            TorrentManifest loaded = TorrentManifest.Load(theirs);
            TorrentManifest ours = await ManifestBuilder.CreateAsync(image, new ManifestBuilderOptions { PieceLength = pieceLength, Versions = TorrentVersions.V1 }, TestContext.Current.CancellationToken);

            Assert.Equal(TorrentVersions.V1, loaded.Versions);
            Assert.Equal(loaded.InfoHashV1, ours.InfoHashV1);
            Assert.Equal(["http://127.0.0.1:1/announce"], loaded.Trackers);
        }
    }

    // aria2 1.36 and Transmission 3.00 do not read BEP 52 file trees: on a hybrid torrent (even one libtorrent
    // made) aria2 reports a wrong info-hash and transmission-show refuses it. So they are checked on v1 torrents.
    [Fact]
    public async Task Aria2ShowsTheSameV1InfoHashForOurV1Torrent()
    {
        string aria2c = Requires.Program("aria2c", "aria2");
        await AssertProgramShowsOurV1InfoHashAsync(aria2c, ["-S"], Aria2InfoHash());
    }

    [Fact]
    public async Task TransmissionShowsTheSameV1InfoHashForOurV1Torrent()
    {
        string show = Requires.Program("transmission-show", "transmission-cli");
        await AssertProgramShowsOurV1InfoHashAsync(show, [], TransmissionInfoHash());
    }

    private static async Task AssertProgramShowsOurV1InfoHashAsync(string program, string[] arguments, Regex infoHash)
    {
        var (dir, image) = await WriteImageAsync((37 * 16384) + 123, 16384);
        using (dir)
        {
            TorrentManifest ours = await ManifestBuilder.CreateAsync(image, new ManifestBuilderOptions { PieceLength = 16384, Versions = TorrentVersions.V1 }, TestContext.Current.CancellationToken);
            string path = dir.File("ours.torrent");
            await ours.SaveAsync(path, TestContext.Current.CancellationToken);

            var result = (await ExternalProgram.RunAsync(program, [.. arguments, path], TimeSpan.FromMinutes(1), cancellationToken: TestContext.Current.CancellationToken)).EnsureSuccess(program);

            Match hash = infoHash.Match(result.StandardOutput);
            Assert.True(hash.Success, result.StandardOutput);
            Assert.Equal(ours.InfoHashV1!.Value.ToHex(), hash.Groups[1].Value, ignoreCase: true);
        }
    }

    [GeneratedRegex(@"Info Hash:\s*([0-9a-fA-F]{40})")]
    private static partial Regex Aria2InfoHash();

    [GeneratedRegex(@"Hash:\s*([0-9a-fA-F]{40})")]
    private static partial Regex TransmissionInfoHash();
}

using BlockTorrent.Bencode;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Manifest;

public sealed class InvalidTorrentTests
{
    private const int Piece = 16384;
    private static readonly byte[] Image = new TestImage { Length = (10 * Piece) + 77, Seed = 5 }.ToArray();

    private static BencodeValue Torrent(TorrentVersions versions)
    {
        TorrentManifest manifest = ManifestBuilder.CreateAsync(Image, "image.raw", new ManifestBuilderOptions { PieceLength = Piece, Versions = versions }).GetAwaiter().GetResult();
        return BencodeValue.Parse(manifest.ToTorrentBytes());
    }

    private static SortedList<byte[], BencodeValue> Info(BencodeValue torrent) => torrent.Dictionary![Key("info")].Dictionary!;

    private static byte[] Key(string key) => System.Text.Encoding.UTF8.GetBytes(key);

    private static BencodeValue Dict(params (string Key, BencodeValue Value)[] entries)
        => BencodeValue.FromDictionary(entries.Select(e => KeyValuePair.Create(Key(e.Key), e.Value)));

    private static void AssertRejected(BencodeValue torrent, string reason)
    {
        var e = Assert.Throws<InvalidTorrentException>(() => TorrentManifest.Parse(torrent.Encode()));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(20000, "power of two")]
    [InlineData(8192, "power of two from 16384")]
    [InlineData(0, "power of two")]
    public void APieceLengthThatIsNotAPowerOfTwoOfAtLeast16KiBIsRejected(long pieceLength, string reason)
    {
        var torrent = Torrent(TorrentVersions.V1);
        Info(torrent)[Key("piece length")] = BencodeValue.FromInteger(pieceLength);

        AssertRejected(torrent, reason);
    }

    [Fact]
    public void PiecesThatAreNotAMultipleOf20BytesAreRejected()
    {
        var torrent = Torrent(TorrentVersions.V1);
        Info(torrent)[Key("pieces")] = BencodeValue.FromBytes(new byte[(11 * 20) + 3]);

        AssertRejected(torrent, "not a multiple of 20");
    }

    [Fact]
    public void PiecesThatDoNotMatchThePieceCountAreRejected()
    {
        var torrent = Torrent(TorrentVersions.V1);
        Info(torrent)[Key("pieces")] = BencodeValue.FromBytes(new byte[10 * 20]);

        AssertRejected(torrent, "make 11 pieces");
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("")]
    public void ANameThatIsNotAPlainFileNameIsRejected(string name)
    {
        var torrent = Torrent(TorrentVersions.V1);
        Info(torrent)[Key("name")] = BencodeValue.FromString(name);

        AssertRejected(torrent, "info.name");
    }

    [Fact]
    public void AnUnknownMetaVersionIsRejected()
    {
        var torrent = Torrent(TorrentVersions.V2);
        Info(torrent)[Key("meta version")] = BencodeValue.FromInteger(3);

        AssertRejected(torrent, "meta version is 3");
    }

    [Fact]
    public void AHybridTorrentWhoseHalvesDisagreeOnTheLengthIsRejected()
    {
        var torrent = Torrent(TorrentVersions.Hybrid);
        Info(torrent)[Key("length")] = BencodeValue.FromInteger(Image.Length - 1);

        AssertRejected(torrent, "differs from the v2 file length");
    }

    [Fact]
    public void APieceLayerOfTheWrongLengthIsRejected()
    {
        var torrent = Torrent(TorrentVersions.V2);
        var layers = torrent.Dictionary![Key("piece layers")].Dictionary!;
        layers[layers.Keys[0]] = BencodeValue.FromBytes(new byte[10 * 32]);

        AssertRejected(torrent, "11 pieces need 352");
    }

    [Fact]
    public void APieceLayerThatDoesNotHashToThePiecesRootIsRejected()
    {
        var torrent = Torrent(TorrentVersions.V2);
        var layers = torrent.Dictionary![Key("piece layers")].Dictionary!;
        byte[] layer = layers.Values[0].Bytes!;
        layer[0] ^= 1;

        AssertRejected(torrent, "merkle root is not the file's pieces root");
    }

    [Fact]
    public void AV2TorrentWithoutItsPieceLayerIsRejected()
    {
        var torrent = Torrent(TorrentVersions.V2);
        torrent.Dictionary!.Remove(Key("piece layers"));

        AssertRejected(torrent, "'piece layers' has no entry");
    }

    [Fact]
    public void APieceLayerKeyedByAnotherRootIsRejected()
    {
        var torrent = Torrent(TorrentVersions.V2);
        var layers = torrent.Dictionary![Key("piece layers")].Dictionary!;
        BencodeValue layer = layers.Values[0];
        layers.Clear();
        layers.Add(new byte[32], layer);

        AssertRejected(torrent, "not the file's pieces root");
    }

    [Fact]
    public void AV1MultiFileTorrentIsRejectedAsNotAnImage()
    {
        var torrent = Torrent(TorrentVersions.V1);
        var info = Info(torrent);
        info.Remove(Key("length"));
        info[Key("files")] = BencodeValue.FromList(
        [
            Dict(("length", BencodeValue.FromInteger(Image.Length - 10)), ("path", BencodeValue.FromList([BencodeValue.FromString("a")]))),
            Dict(("length", BencodeValue.FromInteger(10)), ("path", BencodeValue.FromList([BencodeValue.FromString("b")]))),
        ]);

        AssertRejected(torrent, "multi-file torrents are not supported");
    }

    [Fact]
    public void AV2FileTreeWithTwoFilesIsRejectedAsNotAnImage()
    {
        var torrent = Torrent(TorrentVersions.V2);
        var tree = Info(torrent)[Key("file tree")].Dictionary!;
        tree.Add(Key("second"), tree.Values[0]);

        AssertRejected(torrent, "multi-file torrents are not supported");
    }

    [Fact]
    public void AV1FileListOfOneFileAndTrailingPadFilesIsTheImage()
    {
        var torrent = Torrent(TorrentVersions.V1);
        var info = Info(torrent);
        info.Remove(Key("length"));
        info[Key("files")] = BencodeValue.FromList(
        [
            Dict(("length", BencodeValue.FromInteger(Image.Length)), ("path", BencodeValue.FromList([BencodeValue.FromString("image.raw")]))),
            Dict(("attr", BencodeValue.FromString("p")), ("length", BencodeValue.FromInteger(Piece - 77)), ("path", BencodeValue.FromList([BencodeValue.FromString(".pad"), BencodeValue.FromString("16307")]))),
        ]);

        TorrentManifest manifest = TorrentManifest.Parse(torrent.Encode());

        Assert.Equal(Image.Length, manifest.Length);
        Assert.True(manifest.VerifyPiece(10, Image.AsSpan(10 * Piece)));
    }

    [Fact]
    public void APadFileBeforeTheImageIsRejected()
    {
        var torrent = Torrent(TorrentVersions.V1);
        var info = Info(torrent);
        info.Remove(Key("length"));
        info[Key("files")] = BencodeValue.FromList(
        [
            Dict(("attr", BencodeValue.FromString("p")), ("length", BencodeValue.FromInteger(5)), ("path", BencodeValue.FromList([BencodeValue.FromString(".pad")]))),
            Dict(("length", BencodeValue.FromInteger(Image.Length)), ("path", BencodeValue.FromList([BencodeValue.FromString("image.raw")]))),
        ]);

        AssertRejected(torrent, "starts with a pad file");
    }

    [Fact]
    public void APrivateFlagOtherThanZeroOrOneIsRejected()
    {
        var torrent = Torrent(TorrentVersions.V1);
        Info(torrent)[Key("private")] = BencodeValue.FromInteger(2);

        AssertRejected(torrent, "info.private is 2");
    }

    [Fact]
    public void ATorrentWithoutInfoIsRejected()
    {
        var torrent = Torrent(TorrentVersions.V1);
        torrent.Dictionary!.Remove(Key("info"));

        AssertRejected(torrent, "no 'info'");
    }

    [Fact]
    public void BrokenBencodeIsRejectedWithItsOffset()
    {
        byte[] bytes = Torrent(TorrentVersions.V1).Encode();

        var e = Assert.Throws<InvalidTorrentException>(() => TorrentManifest.Parse(bytes.AsSpan(0, bytes.Length - 1)));

        Assert.IsType<BencodeException>(e.InnerException);
        Assert.Contains("offset", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnyMutationOfAValidTorrentIsRejectedOrParses() => Prop.ForAll(
        ArbMap.Default.ArbFor<Tuple<int, byte, int>>(),
        ArbMap.Default.ArbFor<int>(),
        (mutation, which) =>
        {
            var versions = new[] { TorrentVersions.V1, TorrentVersions.V2, TorrentVersions.Hybrid }[Math.Abs(which % 3)];
            byte[] mutated = Bencode.ByteMutation.Apply(Encoded[versions], mutation);

            try
            {
                TorrentManifest.Parse(mutated);
                return true;
            }
            catch (InvalidTorrentException)
            {
                return true;
            }
        }).CheckSeeded(maxTest: 300);

    private static readonly Dictionary<TorrentVersions, byte[]> Encoded = new()
    {
        [TorrentVersions.V1] = Torrent(TorrentVersions.V1).Encode(),
        [TorrentVersions.V2] = Torrent(TorrentVersions.V2).Encode(),
        [TorrentVersions.Hybrid] = Torrent(TorrentVersions.Hybrid).Encode(),
    };
}

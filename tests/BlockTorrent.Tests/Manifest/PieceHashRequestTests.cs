using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Manifest;

public sealed class PieceHashRequestTests
{
    private static async Task<TorrentManifest> ManifestAsync(int pieces)
    {
        byte[] image = new TestImage { Length = (pieces * 32768L) - 100, Seed = pieces }.ToArray();
        return await ManifestBuilder.CreateAsync(image, "x", new ManifestBuilderOptions { PieceLength = 32768, Versions = TorrentVersions.V2 }, TestContext.Current.CancellationToken);
    }

    [Theory]
    [InlineData(13, 0, 2)]
    [InlineData(13, 4, 4)]
    [InlineData(13, 8, 8)]
    [InlineData(13, 0, 16)]
    [InlineData(64, 32, 32)]
    [InlineData(2, 0, 2)]
    public async Task PieceLayerHashesWithAFullProofVerifyAgainstThePiecesRoot(int pieces, int index, int length)
    {
        TorrentManifest manifest = await ManifestAsync(pieces);
        byte[] reply = new byte[64 * 32];

        Assert.True(manifest.TryGetHashes(manifest.PieceLayerHeight, index, length, manifest.TreeHeight, reply, out int written));

        Assert.True(MerkleTree.VerifyHashes(manifest.PiecesRoot, manifest.TreeHeight, manifest.PieceLayerHeight, index, length, reply.AsSpan(0, written)));
        for (int i = 0; i < Math.Min(length, pieces - index); i++)
        {
            Assert.Equal(manifest.GetPieceHashV2(index + i).ToArray(), reply.AsSpan(i * 32, 32).ToArray());
        }
    }

    [Fact]
    public async Task ATamperedHashOrProofDoesNotVerify()
    {
        TorrentManifest manifest = await ManifestAsync(13);
        byte[] reply = new byte[64 * 32];
        manifest.TryGetHashes(manifest.PieceLayerHeight, 4, 4, manifest.TreeHeight, reply, out int written);

        for (int at = 0; at < written; at += 32)
        {
            byte[] tampered = reply.AsSpan(0, written).ToArray();
            tampered[at + 5] ^= 0x40;
            Assert.False(MerkleTree.VerifyHashes(manifest.PiecesRoot, manifest.TreeHeight, manifest.PieceLayerHeight, 4, 4, tampered), $"hash at {at}");
        }

        Assert.False(MerkleTree.VerifyHashes(manifest.PiecesRoot, manifest.TreeHeight, manifest.PieceLayerHeight, 8, 4, reply.AsSpan(0, written)));
    }

    [Fact]
    public async Task ProofLayersInsideTheRequestedSubtreeAreOmitted()
    {
        TorrentManifest manifest = await ManifestAsync(16);
        byte[] reply = new byte[64 * 32];

        // 4 hashes determine their parents (proof layer 1, omitted); proof layer 2 is the first uncle (BEP 52:
        // the first log2(length) - 1 proof layers are omitted but counted).
        Assert.True(manifest.TryGetHashes(manifest.PieceLayerHeight, 4, 4, 1, reply, out int none));
        Assert.True(manifest.TryGetHashes(manifest.PieceLayerHeight, 4, 4, 2, reply, out int one));

        Assert.Equal(4 * 32, none);
        Assert.Equal(5 * 32, one);
    }

    [Theory]
    [InlineData(0, 0, 2, "leaf layer needs the data")]
    [InlineData(1, 3, 2, "index not a multiple of length")]
    [InlineData(1, 0, 3, "length not a power of two")]
    [InlineData(1, 0, 1, "length below 2")]
    [InlineData(1, 16, 2, "beyond the padded layer")]
    public async Task InvalidRequestsAreRejected(int layerAbovePieces, int index, int length, string why)
    {
        TorrentManifest manifest = await ManifestAsync(13);
        int baseLayer = layerAbovePieces == 0 ? 0 : manifest.PieceLayerHeight + layerAbovePieces - 1;

        Assert.False(manifest.TryGetHashes(baseLayer, index, length, 10, new byte[4096], out _), why);
    }

    [Fact]
    public async Task ATargetFromAMagnetLinkRebuildsTheManifestFromTheInfoDictionaryAndTheLayer()
    {
        TorrentManifest original = await ManifestAsync(13);

        var rebuilt = TorrentManifest.FromInfoDictionary(original.InfoDictionary.Span, original.InfoHashV2!.Value, original.PieceLayer, ["http://t.example/announce"]);

        Assert.Equal(original.InfoHashV2, rebuilt.InfoHashV2);
        Assert.Equal(original.PieceLayer.ToArray(), rebuilt.PieceLayer.ToArray());
        Assert.Equal(["http://t.example/announce"], rebuilt.Trackers);
    }

    [Fact]
    public async Task AnInfoDictionaryThatDoesNotHashToTheExpectedInfoHashIsRejected()
    {
        TorrentManifest original = await ManifestAsync(3);
        TorrentManifest other = await ManifestAsync(4);

        var e = Assert.Throws<InvalidTorrentException>(() => TorrentManifest.FromInfoDictionary(original.InfoDictionary.Span, other.InfoHashV2!.Value, original.PieceLayer));

        Assert.Contains("not the expected", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APieceLayerThatDoesNotLeadToThePiecesRootIsRejected()
    {
        TorrentManifest original = await ManifestAsync(3);
        byte[] layer = original.PieceLayer.ToArray();
        layer[40] ^= 1;

        var e = Assert.Throws<InvalidTorrentException>(() => TorrentManifest.FromInfoDictionary(original.InfoDictionary.Span, original.InfoHashV2!.Value, layer));

        Assert.Contains("merkle root", e.Message, StringComparison.Ordinal);
    }
}

using System.Text;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using BlockTorrent.Writing;

namespace BlockTorrent.Tests.Writing;

/// <summary>
/// A hybrid torrent is verified by its v2 merkle roots; <see cref="PieceWriterOptions.VerifyAllHashes"/> checks the
/// SHA-1 half too and stops on a torrent whose halves describe different data.
/// </summary>
public sealed class HybridVerificationTests
{
    private const int PieceLength = 64 * 1024;
    private const int Length = (8 * PieceLength) + 1000;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AHybridPieceIsVerifiedByItsMerkleRoot()
    {
        (TorrentManifest inconsistent, byte[] v2Image, byte[] v1Image) = await InconsistentAsync();

        Assert.True(inconsistent.VerifyPiece(1, Piece(v2Image, 1)));
        Assert.False(inconsistent.VerifyPiece(1, Piece(v1Image, 1)));
    }

    [Fact]
    public async Task VerifyingAllHashesStopsAnInconsistentTorrentAndWritesNothing()
    {
        (TorrentManifest inconsistent, byte[] v2Image, _) = await InconsistentAsync();
        var device = new MemoryBlockDevice(Length);
        await using var writer = new PieceWriter(inconsistent, device, new PieceWriterOptions { VerifyAllHashes = true });

        var error = await Assert.ThrowsAsync<InvalidTorrentException>(() => writer.WriteAsync(1, Piece(v2Image, 1), cancellationToken: Token));

        Assert.Contains("piece 1 ", error.Message, StringComparison.Ordinal);
        Assert.Contains("describe different data", error.Message, StringComparison.Ordinal);
        Assert.False(writer.HasPiece(1));
        Assert.Equal(new byte[Length], await ReadAllAsync(device));
    }

    [Fact]
    public async Task VerifyingAllHashesBlamesThePeerForWrongBytes()
    {
        byte[] image = new TestImage { Length = Length, Seed = 8, ZeroRunPercent = 0, ZeroBlockPercent = 0, RepeatBlockPercent = 0 }.ToArray();
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(image, "h.img", new ManifestBuilderOptions { PieceLength = PieceLength }, Token);
        await using var writer = new PieceWriter(manifest, new MemoryBlockDevice(Length), new PieceWriterOptions { VerifyAllHashes = true });
        byte[] corrupted = Piece(image, 2);
        corrupted[100] ^= 1;

        PieceWriteResult result = await writer.WriteAsync(2, corrupted, "peer", Token);

        Assert.Equal(PieceWriteStatus.HashMismatch, result.Status);
    }

    [Fact]
    public async Task VerifyingAllHashesWritesAConsistentHybridImage()
    {
        byte[] image = new TestImage { Length = Length, Seed = 9 }.ToArray();
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(image, "h.img", new ManifestBuilderOptions { PieceLength = PieceLength }, Token);
        var device = new MemoryBlockDevice(Length);
        await using var writer = new PieceWriter(manifest, device, new PieceWriterOptions { VerifyAllHashes = true, VerifyAfterWrite = true });

        await Task.WhenAll(Enumerable.Range(0, manifest.PieceCount).Where(p => !manifest.IsZeroPiece(p)).Select(p => writer.WriteAsync(p, Piece(image, p), cancellationToken: Token)));
        await writer.SatisfyZeroPiecesAsync(Token);
        await writer.CompleteAsync(Token);

        Assert.Equal(image, await ReadAllAsync(device));
    }

    // A hybrid torrent whose v2 half (file tree, piece layer) describes one image and whose v1 half ("pieces") another
    // of the same length: a faulty or hostile creator's torrent.
    private static async Task<(TorrentManifest Manifest, byte[] V2Image, byte[] V1Image)> InconsistentAsync()
    {
        var options = new ManifestBuilderOptions { PieceLength = PieceLength };
        byte[] a = new TestImage { Length = Length, Seed = 1, ZeroRunPercent = 0, ZeroBlockPercent = 0, RepeatBlockPercent = 0 }.ToArray();
        byte[] b = new TestImage { Length = Length, Seed = 2, ZeroRunPercent = 0, ZeroBlockPercent = 0, RepeatBlockPercent = 0 }.ToArray();
        TorrentManifest ma = await ManifestBuilder.CreateAsync(a, "i.img", options, Token);
        TorrentManifest mb = await ManifestBuilder.CreateAsync(b, "i.img", options, Token);
        byte[] info = ma.InfoDictionary.ToArray();
        byte[] key = Encoding.ASCII.GetBytes($"6:pieces{ma.PieceCount * 20}:");
        int at = info.AsSpan().IndexOf(key) + key.Length;
        for (int p = 0; p < mb.PieceCount; p++)
        {
            mb.GetPieceHashV1(p).CopyTo(info.AsSpan(at + (p * 20)));
        }

        TorrentManifest spliced = TorrentManifest.Create(info, ma.PieceLayer, TorrentMetadata.Empty);
        Assert.Equal(TorrentVersions.Hybrid, spliced.Versions);
        return (spliced, a, b);
    }

    private static byte[] Piece(byte[] image, int piece) => image.AsSpan(piece * PieceLength, Math.Min(PieceLength, image.Length - (piece * PieceLength))).ToArray();

    private static async Task<byte[]> ReadAllAsync(MemoryBlockDevice device)
    {
        byte[] contents = new byte[Length];
        await device.ReadAsync(0, contents, Token);
        return contents;
    }
}

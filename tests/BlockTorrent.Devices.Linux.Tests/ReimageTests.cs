using System.Security.Cryptography;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Devices.Linux.Tests;

/// <summary>Re-imaging a real loop device that holds last month's image: only what is nowhere on it travels.</summary>
public sealed class ReimageTests
{
    private const int PieceLength = 64 << 10;
    private const int Pieces = 512;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ReimagingALoopDeviceHoldingLastMonthsImageDownloadsOnlyThePiecesThatAreNowhereOnIt()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        string imagePath = temp.File("reimage18-new.raw");
        await new TestImage { Length = (long)Pieces * PieceLength, Seed = 1805, BlockSize = PieceLength }.WriteFileAsync(imagePath, Token);
        byte[] image = await File.ReadAllBytesAsync(imagePath, Token);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(imagePath, new ManifestBuilderOptions { PieceLength = PieceLength }, Token);

        // Last month's image: a partition 5 % of the disk long sat 3 pieces lower (the one before it grew since),
        // and every tenth piece elsewhere held other bytes.
        byte[] old = (byte[])image.Clone();
        const int MovedFrom = 300, MovedCount = 26, Shift = 3;
        Buffer.BlockCopy(image, MovedFrom * PieceLength, old, (MovedFrom - Shift) * PieceLength, MovedCount * PieceLength);
        var random = new Random(18);
        for (int piece = 5; piece < Pieces; piece += 10)
        {
            if (piece < MovedFrom - Shift || piece >= MovedFrom + MovedCount)
            {
                random.NextBytes(old.AsSpan(piece * PieceLength, PieceLength));
            }
        }

        int expected = NowhereOnDisk(manifest, image, old);
        int moved = Enumerable.Range(MovedFrom, MovedCount - Shift).Count(p => !manifest.IsZeroPiece(p) && !image.AsSpan(p * PieceLength, PieceLength).SequenceEqual(old.AsSpan(p * PieceLength, PieceLength)));
        Assert.True(expected >= Pieces / 20, $"{expected} pieces differ");
        Assert.True(moved > 0, "the test image should move non-zero pieces");
        string backing = temp.File("reimage18-target.img");
        await File.WriteAllBytesAsync(backing, old, Token);
        await using var loop = await LoopDevice.AttachAsync(backing);

        DeploymentResult result;
        await using (var device = LinuxBlockDevice.Open(loop.Path, new LinuxBlockDeviceOptions { MinimumLength = manifest.Length }))
        {
            result = await ResumeTests.DeployFromSeedAsync(manifest, image, device, new DeployOptions { CheckExistingData = true });
        }

        Assert.Equal(image, loop.ReadBackingFile());
        Assert.Equal(expected, result.PiecesDownloaded);
        Assert.True(result.PiecesCopiedLocally >= moved, $"{result.PiecesCopiedLocally} pieces copied locally, {moved} moved");
        Assert.Equal(0, result.HashFailures);
    }

    /// <summary>The distinct non-zero pieces of the image whose bytes are at no piece-aligned offset of the old disk.</summary>
    private static int NowhereOnDisk(TorrentManifest manifest, byte[] image, byte[] old)
    {
        var onDisk = new HashSet<string>(StringComparer.Ordinal);
        for (int region = 0; region < manifest.PieceCount; region++)
        {
            onDisk.Add(Convert.ToHexString(SHA256.HashData(old.AsSpan(region * PieceLength, manifest.GetPieceSize(region)))));
        }

        return Enumerable.Range(0, manifest.PieceCount).Count(p =>
            !manifest.IsZeroPiece(p) && manifest.GetCanonicalPiece(p) == p
            && !onDisk.Contains(Convert.ToHexString(SHA256.HashData(image.AsSpan(p * PieceLength, manifest.GetPieceSize(p))))));
    }
}

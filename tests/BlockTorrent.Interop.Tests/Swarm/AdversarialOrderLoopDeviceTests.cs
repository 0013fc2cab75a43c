using System.IO.Compression;
using System.Net;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using BlockTorrent.Compression;
using BlockTorrent.Devices.Linux;
using BlockTorrent.Manifest;
using BlockTorrent.Scratch;
using BlockTorrent.Testing;
using ZstdSharp;

namespace BlockTorrent.Interop.Tests.Swarm;

/// <summary>
/// Images whose pieces reach the target in an order the seed chooses against it — reversed, shuffled, or libtorrent's
/// own — deploy bit-exact onto a real loop device, and a stream image never holds more in scratch than its bound.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class AdversarialOrderLoopDeviceTests
{
    private const int PieceLength = 64 * 1024;
    private const int ScratchPieces = 4;
    private const int RawLength = (12 * 1024 * 1024) + 4096;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    public enum ImageKind
    {
        Raw,
        Seekable,
        Zstd,
        Gzip,
    }

    [Theory]
    [InlineData(SendOrder.Reverse, ImageKind.Raw)]
    [InlineData(SendOrder.Random, ImageKind.Raw)]
    [InlineData(SendOrder.Reverse, ImageKind.Seekable)]
    [InlineData(SendOrder.Random, ImageKind.Seekable)]
    [InlineData(SendOrder.Reverse, ImageKind.Zstd)]
    [InlineData(SendOrder.Random, ImageKind.Zstd)]
    [InlineData(SendOrder.Reverse, ImageKind.Gzip)]
    [InlineData(SendOrder.Random, ImageKind.Gzip)]
    public async Task AnImageASeedSendsInReverseOrRandomOrderDeploysBitExactOntoALoopDeviceAndAStreamStaysWithinItsScratch(SendOrder order, ImageKind kind)
    {
        LoopDevice.Require();
        using var dir = new TempDirectory();
        byte[] image = CompressibleImage.Create(RawLength, seed: 40 + (int)kind);
        (TorrentManifest manifest, string file) = await CreateAsync(dir, image, kind);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using var seed = new ReorderingSeed(manifest, await File.ReadAllBytesAsync(file, cts.Token), order, seed: 7);

        (DeploymentResult result, CountingScratchStore? scratch) = await DeployOntoLoopDeviceAsync(dir, image, manifest, seed.EndPoint, cts.Token);

        Assert.True(seed.BatchesReordered > 0, $"the seed answered all of its {seed.BlocksSent} blocks in the order asked");
        Assert.Equal(0, result.HashFailures);
        AssertScratchWithinBound(kind, result, scratch);
    }

    [Theory]
    [InlineData(ImageKind.Zstd)]
    [InlineData(ImageKind.Gzip)]
    public async Task AStreamImageLibtorrentSeedsDeploysBitExactOntoALoopDeviceWithinItsScratch(ImageKind kind)
    {
        LoopDevice.Require();
        Requires.PythonLibtorrent();
        using var dir = new TempDirectory();
        byte[] image = CompressibleImage.Create(RawLength, seed: 50 + (int)kind);
        (TorrentManifest manifest, string file) = await CreateAsync(dir, image, kind);
        string torrent = dir.File("image.torrent");
        await manifest.SaveAsync(torrent, TestContext.Current.CancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using var libtorrent = await LibtorrentSwarmPeer.SeedAsync(torrent, Path.GetDirectoryName(file)!, cts.Token);

        (DeploymentResult result, CountingScratchStore? scratch) = await DeployOntoLoopDeviceAsync(dir, image, manifest, new IPEndPoint(IPAddress.Loopback, libtorrent.Port), cts.Token);

        Assert.Equal(0, result.HashFailures);
        Assert.Equal(manifest.Length, result.BytesDownloaded);
        AssertScratchWithinBound(kind, result, scratch);
    }

    private static void AssertScratchWithinBound(ImageKind kind, DeploymentResult result, CountingScratchStore? scratch)
    {
        if (kind is ImageKind.Zstd or ImageKind.Gzip)
        {
            Assert.NotNull(scratch);
            Assert.InRange(scratch.PeakBytes, 1, ScratchPieces * PieceLength);
            Assert.Equal(scratch.PeakBytes, result.ScratchPeakBytes);
        }
        else
        {
            Assert.Null(scratch);
        }
    }

    /// <summary>Deploys from one peer onto a loop device as long as the raw image, with scratch of four pieces; checks the bytes.</summary>
    private static async Task<(DeploymentResult Result, CountingScratchStore? Scratch)> DeployOntoLoopDeviceAsync(TempDirectory dir, byte[] image, TorrentManifest manifest, IPEndPoint peer, CancellationToken ct)
    {
        CountingScratchStore? scratch = null;
        var options = new DeployOptions { ScratchSize = ScratchPieces * PieceLength };
        options.ScratchStoreFactory = (capacity, _) => scratch = new CountingScratchStore(new MemoryScratchStore(capacity));
        options.Peers.Add(peer);
        await using var deployer = new BlockTorrentClient(InteropImages.Loopback(), new TestOutputLoggerFactory());
        await using LoopDevice loop = await LoopDevice.CreateAsync(dir, image.Length, name: "target.img");
        DeploymentResult result;
        await using (LinuxBlockDevice target = LinuxBlockDevice.Open(loop.Path))
        {
            result = await deployer.DeployAsync(manifest, target, options, null, ct);
        }

        Assert.True(image.AsSpan().SequenceEqual(loop.ReadBackingFile()), "the loop device does not hold the raw image");
        return (result, scratch);
    }

    /// <summary>Writes the image as <paramref name="kind"/> into its own folder (what a seed serves) and makes its manifest.</summary>
    private static async Task<(TorrentManifest Manifest, string File)> CreateAsync(TempDirectory dir, byte[] image, ImageKind kind)
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        string folder = Directory.CreateDirectory(dir.File("seed")).FullName;
        var manifestOptions = new ManifestBuilderOptions { PieceLength = PieceLength };
        if (kind == ImageKind.Raw)
        {
            string path = Path.Combine(folder, "image.raw");
            await File.WriteAllBytesAsync(path, image, ct);
            return (await ManifestBuilder.CreateAsync(path, manifestOptions, ct), path);
        }

        if (kind == ImageKind.Seekable)
        {
            string raw = dir.File("image.raw");
            await File.WriteAllBytesAsync(raw, image, ct);
            string path = Path.Combine(folder, "image.raw.btz");
            return (await CompressedImageBuilder.CreateAsync(raw, path, CompressedImageOptions.Default, manifestOptions, ct), path);
        }

        string stream = Path.Combine(folder, kind == ImageKind.Zstd ? "image.img.zst" : "image.img.gz");
        await File.WriteAllBytesAsync(stream, Compress(image, kind), ct);
        TorrentManifest manifest = await StreamImageBuilder.CreateAsync(stream, manifestOptions, ct);
        Assert.True(manifest.PieceCount > 4 * ScratchPieces, "the stream must be many times its scratch");
        Assert.Equal(SHA256.HashData(image), StreamImage.FromManifest(manifest)!.RawSha256.ToArray());
        return (manifest, stream);
    }

    private static byte[] Compress(byte[] image, ImageKind kind)
    {
        using var output = new MemoryStream();
        using (Stream encoder = kind == ImageKind.Zstd ? new CompressionStream(output, 3, leaveOpen: true) : new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            encoder.Write(image);
        }

        return output.ToArray();
    }
}

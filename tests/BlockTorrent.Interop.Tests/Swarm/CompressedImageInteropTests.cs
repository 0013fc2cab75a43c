using System.Net;
using System.Runtime.Versioning;
using BlockTorrent.Compression;
using BlockTorrent.Devices.Linux;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Swarm;

/// <summary>A seekable compressed image is an ordinary file to libtorrent, which seeds it; our target decodes it raw.</summary>
[SupportedOSPlatform("linux")]
public sealed class CompressedImageInteropTests
{
    private const int PieceLength = 64 * 1024;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public Task BlockTorrentDeploysACompressedImageThatLibtorrentSeedsBitExactOntoALoopDevice() =>
        DeployFromLibtorrentAsync(seed: 31, (deployer, manifest, target, libtorrent, ct) =>
        {
            var options = new DeployOptions();
            options.Peers.Add(libtorrent);
            return deployer.DeployAsync(manifest, target, options, null, ct);
        });

    [Fact]
    public Task BlockTorrentDeploysACompressedImageFromAMagnetLinkOffLibtorrentBitExactOntoALoopDevice() =>
        // The layout is in the info dictionary, so the metadata libtorrent serves (BEP 9) carries it.
        DeployFromLibtorrentAsync(seed: 32, (deployer, manifest, target, libtorrent, ct) =>
            deployer.DeployAsync(MagnetLink.Parse($"{MagnetLink.FromManifest(manifest)}&x.pe={libtorrent}"), target, null, null, ct));

    private static async Task DeployFromLibtorrentAsync(int seed, Func<BlockTorrentClient, TorrentManifest, LinuxBlockDevice, IPEndPoint, CancellationToken, Task<DeploymentResult>> deploy)
    {
        LoopDevice.Require();
        Requires.PythonLibtorrent();
        using var dir = new TempDirectory();
        byte[] image = CompressibleImage.Create((16 * 1024 * 1024) + 12_288, seed);
        string imagePath = dir.File("image.raw");
        await File.WriteAllBytesAsync(imagePath, image, TestContext.Current.CancellationToken);
        string seedDirectory = Directory.CreateDirectory(dir.File("seed")).FullName;
        TorrentManifest manifest = await CompressedImageBuilder.CreateAsync(
            imagePath,
            Path.Combine(seedDirectory, "image.raw.btz"),
            CompressedImageOptions.Default,
            new ManifestBuilderOptions { PieceLength = PieceLength },
            TestContext.Current.CancellationToken);
        string torrent = dir.File("image.torrent");
        await manifest.SaveAsync(torrent, TestContext.Current.CancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using var libtorrent = await LibtorrentSwarmPeer.SeedAsync(torrent, seedDirectory, cts.Token);
        await using var deployer = new BlockTorrentClient(InteropImages.Loopback(), new TestOutputLoggerFactory());
        await using LoopDevice loop = await LoopDevice.CreateAsync(dir, image.Length, name: "target.img");

        DeploymentResult result;
        await using (LinuxBlockDevice target = LinuxBlockDevice.Open(loop.Path))
        {
            result = await deploy(deployer, manifest, target, new IPEndPoint(IPAddress.Loopback, libtorrent.Port), cts.Token);
        }

        Assert.True(image.AsSpan().SequenceEqual(loop.ReadBackingFile()), $"the deployed raw image differs\n{libtorrent.Output}");
        Assert.Equal(0, result.HashFailures);
        Assert.Equal(manifest.Length, result.BytesDownloaded + result.BytesSatisfiedLocally);
        Assert.True(manifest.Length * 2 < image.Length, $"the compressed file ({manifest.Length} bytes) is not under half the image ({image.Length} bytes)");
    }
}

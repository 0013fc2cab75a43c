using System.Net;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using BlockTorrent.Writing;

namespace BlockTorrent.Devices.Linux.Tests;

/// <summary>A resume file is a hint, never proof: on a real loop device whose bytes change between two runs.</summary>
public sealed class ResumeTests
{
    private const int ImageLength = 8 << 20;
    private const int PieceLength = 64 << 10;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ADeployResumedOnALoopDeviceReattachedToAnotherFileEndsBitExact()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        string imagePath = temp.File("image.raw");
        await new TestImage { Length = ImageLength, Seed = 7, BlockSize = PieceLength }.WriteFileAsync(imagePath, Token);
        byte[] image = await File.ReadAllBytesAsync(imagePath, Token);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(imagePath, new ManifestBuilderOptions { PieceLength = PieceLength }, Token);
        string resume = temp.File("loop.resume");
        await using var loop = await LoopDevice.CreateAsync(temp, ImageLength, name: "first.img");

        // The first run writes half of the image (and those pieces' duplicates) to the device over first.img and records it.
        int named;
        int[] written = [.. Enumerable.Range(0, manifest.PieceCount).Where(p => p % 2 == 0)];
        await using (var device = LinuxBlockDevice.Open(loop.Path, new LinuxBlockDeviceOptions { MinimumLength = manifest.Length }))
        {
            await using var writer = new PieceWriter(manifest, device);
            foreach (int piece in written)
            {
                await writer.WriteAsync(piece, image.AsMemory((int)manifest.GetPieceOffset(piece), manifest.GetPieceSize(piece)), cancellationToken: Token);
            }

            await writer.FlushAsync(Token);
            ResumeState state = writer.CreateResumeState();
            state.Save(resume);
            named = state.Count;
        }

        // The same device node now shows another file: same name, same length, other bytes.
        string second = temp.File("second.img");
        await File.WriteAllBytesAsync(second, ZeroAndDiscardTests.Filled(ImageLength, 0xEE), Token);
        await loop.ReattachAsync(second);

        DeploymentResult result;
        await using (var device = LinuxBlockDevice.Open(loop.Path, new LinuxBlockDeviceOptions { MinimumLength = manifest.Length }))
        {
            result = await DeployFromSeedAsync(manifest, image, device, new DeployOptions { ResumeFilePath = resume });
        }

        Assert.Equal(image, loop.ReadBackingFile());
        Assert.True(named >= written.Length, $"{named} pieces named");
        Assert.Equal(named, result.ResumedPieces);
        Assert.Equal(named, result.ResumedPiecesRejected);
        Assert.Equal(0, result.PiecesAlreadyPresent);
    }

    /// <summary>Deploys onto <paramref name="target"/> from an in-process seed of <paramref name="image"/> on loopback.</summary>
    internal static async Task<DeploymentResult> DeployFromSeedAsync(TorrentManifest manifest, byte[] image, IBlockDevice target, DeployOptions options)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(Token);
        bound.CancelAfter(TimeSpan.FromMinutes(2));
        var loopback = new BlockTorrentClientOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), EnableLocalPeerDiscovery = false };
        await using var seeder = new BlockTorrentClient(loopback);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, bound.Token);
        await using var client = new BlockTorrentClient(loopback);
        options.Peers.Add(seeder.LocalEndPoint);
        DeploymentResult result = await client.DeployAsync(manifest, target, options, null, bound.Token);
        await bound.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
        return result;
    }
}

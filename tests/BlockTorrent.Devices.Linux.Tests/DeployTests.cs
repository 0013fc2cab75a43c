using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using BlockTorrent.Writing;

namespace BlockTorrent.Devices.Linux.Tests;

public sealed class DeployTests
{
    private const int ImageLength = 24 << 20;
    private const int PieceLength = 64 << 10;

    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public async Task AFullDeployOntoALoopDeviceIsBitExact(int sectorSize)
    {
        LoopDevice.Require();
        string sfdisk = Requires.Program("sfdisk", "fdisk");
        using var temp = new TempDirectory();

        // A disk-like image (random, zero and repeated blocks) with a real MBR partition table in front.
        string imagePath = temp.File("image.raw");
        await new TestImage { Length = ImageLength, Seed = 42, BlockSize = 256 << 10 }.WriteFileAsync(imagePath, TestContext.Current.CancellationToken);
        await LoopDevice.RunAsync("sh", "-c", $"printf 'label: dos\\n2048,8192,L\\n10240,,L\\n' | {sfdisk} --quiet '{imagePath}'");
        byte[] image = await File.ReadAllBytesAsync(imagePath, TestContext.Current.CancellationToken);
        var manifest = await ManifestBuilder.CreateAsync(imagePath, new ManifestBuilderOptions { PieceLength = PieceLength }, TestContext.Current.CancellationToken);
        Assert.True(manifest.ZeroPieceCount > 0 && manifest.DuplicatePieceCount > 0, "the image should exercise zero and duplicate pieces");

        // The target is larger than the image and full of old data, so zero pieces must really be zeroed.
        string backing = temp.File("target.img");
        byte[] old = ZeroAndDiscardTests.Filled(ImageLength + (1 << 20), 0xEE);
        await File.WriteAllBytesAsync(backing, old, TestContext.Current.CancellationToken);
        await using var loop = await LoopDevice.AttachAsync(backing, sectorSize, partitionScan: true);

        await using (var device = LinuxBlockDevice.Open(loop.Path, new LinuxBlockDeviceOptions { MinimumLength = manifest.Length }))
        {
            await using var writer = new PieceWriter(manifest, device);
            await writer.SatisfyZeroPiecesAsync(TestContext.Current.CancellationToken);

            // Pieces arrive in a swarm's order, not the disk's.
            foreach (int piece in Enumerable.Range(0, manifest.PieceCount).OrderBy(p => (p * 7919) % 503))
            {
                if (!writer.HasPiece(piece))
                {
                    var result = await writer.WriteAsync(piece, image.AsMemory((int)manifest.GetPieceOffset(piece), manifest.GetPieceSize(piece)), cancellationToken: TestContext.Current.CancellationToken);
                    Assert.NotEqual(PieceWriteStatus.HashMismatch, result.Status);
                }
            }

            await writer.CompleteAsync(TestContext.Current.CancellationToken);
            Assert.Equal(manifest.PieceCount, writer.PiecesWritten);

            // The writer's pooled buffers are aligned and its pieces are whole sectors: every write was zero-copy.
            Assert.True(device.DirectTransfers > 0);
            Assert.Equal(0, device.BouncedTransfers);
        }

        byte[] disk = loop.ReadBackingFile();
        Assert.True(disk.AsSpan(0, ImageLength).SequenceEqual(image), "the device does not hold the image");
        Assert.True(disk.AsSpan(ImageLength).SequenceEqual(old.AsSpan(ImageLength)), "the deploy wrote past the image");
    }
}

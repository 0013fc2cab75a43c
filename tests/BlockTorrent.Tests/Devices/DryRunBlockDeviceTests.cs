using BlockTorrent.Devices;
using BlockTorrent.Testing;
using BlockTorrent.Tests.Writing;
using BlockTorrent.Writing;

namespace BlockTorrent.Tests.Devices;

public sealed class DryRunBlockDeviceTests
{
    private const int PieceLength = 64 * 1024;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ADeploymentIntoADryRunLeavesTheDeviceUntouchedAndReportsWhatItWouldHaveWritten()
    {
        byte[] image = TestImages.Build("rrzzr");
        var manifest = new HashListManifest(image, PieceLength);
        byte[] before = Enumerable.Repeat((byte)0xEE, image.Length).ToArray();
        var device = new MemoryBlockDevice(before.ToArray());
        await using var dryRun = new DryRunBlockDevice(device);

        await using (var writer = new PieceWriter(manifest, dryRun))
        {
            await writer.SatisfyZeroPiecesAsync(Token);
            foreach (int piece in new[] { 4, 0, 1 })
            {
                var result = await writer.WriteAsync(piece, TestImages.Piece(image, PieceLength, piece), cancellationToken: Token);
                Assert.Equal(PieceWriteStatus.Written, result.Status);
            }

            await writer.CompleteAsync(Token);
        }

        Assert.Equal(before, device.Contents.ToArray());
        Assert.Equal(
            [
                new DryRunExtent(0, 2 * PieceLength, DryRunOperation.Write),
                new DryRunExtent(2 * PieceLength, 2 * PieceLength, DryRunOperation.ZeroRange),
                new DryRunExtent(4 * PieceLength, PieceLength, DryRunOperation.Write),
            ],
            dryRun.Report.Extents);
        Assert.Equal((3L * PieceLength, 2L * PieceLength, 0L), (dryRun.Report.BytesWritten, dryRun.Report.BytesZeroed, dryRun.Report.BytesDiscarded));
    }

    [Fact]
    public async Task ADryRunOverAnImageFileChangesNoByteOfItAndNamesItInTheReport()
    {
        using var dir = new TempDirectory();
        string path = dir.File("target.img");
        byte[] contents = Enumerable.Range(0, 1 << 20).Select(i => (byte)i).ToArray();
        await File.WriteAllBytesAsync(path, contents, Token);
        await using var dryRun = new DryRunBlockDevice(FileBlockDevice.Open(path, new FileBlockDeviceOptions { ReadOnly = true }));

        await dryRun.WriteAsync(100, new byte[5000], Token);
        await dryRun.WriteGatherAsync(8192, [new byte[4096], new byte[4096]], Token);
        await dryRun.FlushAsync(Token);
        await dryRun.DisposeAsync();

        Assert.Equal(contents, await File.ReadAllBytesAsync(path, Token));
        Assert.Equal([new DryRunExtent(100, 5000, DryRunOperation.Write), new DryRunExtent(8192, 8192, DryRunOperation.Write)], dryRun.Report.Extents);
        Assert.Contains(path, dryRun.Report.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADryRunReadsTheDevicesRealContentsAndHasItsGeometryAndPowers()
    {
        byte[] contents = new byte[4096];
        new byte[] { 1, 2, 3, 4 }.CopyTo(contents, 0);
        var device = new MemoryBlockDevice(contents, new MemoryBlockDeviceOptions { ReadOnly = true, CanDiscard = true, CanZeroRange = false, LogicalSectorSize = 4096 });
        await using var dryRun = new DryRunBlockDevice(device);
        byte[] buffer = new byte[4];

        await dryRun.WriteAsync(0, new byte[4], Token);
        int read = await dryRun.ReadAsync(0, buffer, Token);

        Assert.Equal(4, read);
        Assert.Equal([1, 2, 3, 4], buffer);
        Assert.False(dryRun.IsReadOnly);
        Assert.Equal((device.Length, device.LogicalSectorSize, device.CanDiscard, device.CanZeroRange), (dryRun.Length, dryRun.LogicalSectorSize, dryRun.CanDiscard, dryRun.CanZeroRange));
        await Assert.ThrowsAsync<NotSupportedException>(async () => await dryRun.ZeroRangeAsync(0, 4, Token));
    }

    [Fact]
    public async Task AWriteReachingOutsideTheDeviceIsRefusedAndNotRecorded()
    {
        await using var dryRun = new DryRunBlockDevice(new MemoryBlockDevice(4096));

        Assert.Throws<ArgumentOutOfRangeException>(() => dryRun.WriteAsync(4000, new byte[200], Token));
        Assert.Throws<ArgumentOutOfRangeException>(() => dryRun.ZeroRangeAsync(-1, 10, Token));

        Assert.Empty(dryRun.Report.Extents);
    }

    [Fact]
    public async Task DisposingADryRunDisposesTheDevice()
    {
        using var dir = new TempDirectory();
        var device = FileBlockDevice.Create(dir.File("target.img"), 4096);
        var dryRun = new DryRunBlockDevice(device);

        await dryRun.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await device.ReadAsync(0, new byte[1], Token));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await dryRun.ReadAsync(0, new byte[1], Token));
    }
}

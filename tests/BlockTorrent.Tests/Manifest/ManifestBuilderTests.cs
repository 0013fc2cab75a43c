using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Manifest;

public sealed class ManifestBuilderTests
{
    private const long MiB = 1024 * 1024;
    private const long GiB = 1024 * MiB;

    [Theory]
    [InlineData(1, 16384)]
    [InlineData(MiB, 16384)]
    [InlineData(100 * MiB, 512 * 1024)]
    [InlineData(128 * MiB, MiB)]
    [InlineData(GiB, MiB)]
    [InlineData(2 * GiB, MiB)]
    [InlineData(32 * GiB, MiB)]
    [InlineData(512 * GiB, MiB)]
    [InlineData((512 * GiB) + 1, 2 * MiB)]
    [InlineData(4096 * GiB, 8 * MiB)]
    [InlineData(16384 * GiB, 16 * MiB)]
    public void TheAutomaticPieceLengthFollowsTheImageSize(long length, long expected)
    {
        Assert.Equal(expected, ManifestBuilder.ChoosePieceLength(length));
    }

    [Fact]
    public void SmallImagesGetAtLeast128PiecesUntilTheFloor()
    {
        for (long length = 2 * MiB; length < 512 * GiB; length = (length * 3) + 12345)
        {
            int pieceLength = ManifestBuilder.ChoosePieceLength(length);
            Assert.True(System.Numerics.BitOperations.IsPow2(pieceLength));
            Assert.InRange((length + pieceLength - 1) / pieceLength, 128, pieceLength == MiB ? 512 * 1024 : 256);
        }
    }

    [Theory]
    [InlineData(20000)]
    [InlineData(8192)]
    [InlineData(-1)]
    public void AnInvalidPieceLengthIsRefusedBeforeAnyWork(int pieceLength)
    {
        var options = new ManifestBuilderOptions { PieceLength = pieceLength };

        var e = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Contains("PieceLength", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmptyImageIsRefused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => ManifestBuilder.CreateAsync(ReadOnlyMemory<byte>.Empty, "x", null, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ProgressReachesTheImageLength()
    {
        var reports = new List<ManifestBuildProgress>();
        var options = new ManifestBuilderOptions { PieceLength = 16384, ReadChunkSize = 65536, Progress = new SynchronousProgress(reports) };

        await ManifestBuilder.CreateAsync(new byte[(1024 * 1024) + 3], "x", options, TestContext.Current.CancellationToken);

        Assert.True(reports.Count > 1);
        Assert.Equal(new ManifestBuildProgress((1024 * 1024) + 3, (1024 * 1024) + 3), reports[^1]);
    }

    [Theory]
    [InlineData(1, 16384)]
    [InlineData(3, 65536)]
    [InlineData(8, 16384)]
    public async Task TheResultDoesNotDependOnParallelismOrChunkSize(int workers, int chunk)
    {
        byte[] image = new TestImage { Length = (3 * 1024 * 1024) + 999, Seed = 11 }.ToArray();
        var reference = await ManifestBuilder.CreateAsync(image, "x", new ManifestBuilderOptions { PieceLength = 32768 }, TestContext.Current.CancellationToken);

        var other = await ManifestBuilder.CreateAsync(image, "x", new ManifestBuilderOptions { PieceLength = 32768, MaxDegreeOfParallelism = workers, ReadChunkSize = chunk }, TestContext.Current.CancellationToken);

        Assert.Equal(reference.ToTorrentBytes(), other.ToTorrentBytes());
    }

    [Fact]
    public async Task AFileBuildsTheSameManifestAsItsBytes()
    {
        using var dir = new TempDirectory();
        var image = new TestImage { Length = (2 * 1024 * 1024) + 5, Seed = 2 };
        await image.WriteFileAsync(dir.File("disk.img"), TestContext.Current.CancellationToken);

        var fromFile = await ManifestBuilder.CreateAsync(dir.File("disk.img"), null, TestContext.Current.CancellationToken);
        var fromBytes = await ManifestBuilder.CreateAsync(image.ToArray(), "disk.img", null, TestContext.Current.CancellationToken);

        Assert.Equal("disk.img", fromFile.Name);
        Assert.Equal(fromBytes.ToTorrentBytes(), fromFile.ToTorrentBytes());
    }

    [Theory]
    [InlineData(TorrentVersions.V1, 0, 16 * MiB)]
    [InlineData(TorrentVersions.V2, 1, 65536)]
    [InlineData(TorrentVersions.Hybrid, 3, 16384)]
    [InlineData(TorrentVersions.Hybrid, 0, 16 * MiB)]
    [InlineData(TorrentVersions.Hybrid, 2, 16 * MiB, 1024 * 1024)]
    [InlineData(TorrentVersions.V2, 1, 16 * MiB, 512 * 1024)]
    public async Task AnImageFileHashesLikeTheSameBytesReadFromADevice(TorrentVersions versions, int workers, int chunk, int pieceLength = 65536)
    {
        using var dir = new TempDirectory();
        var image = new TestImage { Length = (3 * MiB) + 12345, Seed = 4 };
        await image.WriteFileAsync(dir.File("disk.img"), TestContext.Current.CancellationToken);
        var options = new ManifestBuilderOptions { PieceLength = pieceLength, Versions = versions, MaxDegreeOfParallelism = workers, ReadChunkSize = (int)chunk };

        var mapped = await ManifestBuilder.CreateAsync(dir.File("disk.img"), options, TestContext.Current.CancellationToken);
        await using var device = FileBlockDevice.Open(dir.File("disk.img"), new FileBlockDeviceOptions { ReadOnly = true });
        var read = await ManifestBuilder.CreateAsync(device, options, TestContext.Current.CancellationToken);

        Assert.Equal(read.ToTorrentBytes(), mapped.ToTorrentBytes());
    }

    [Fact]
    public async Task AnImageFileReportsProgressToItsLength()
    {
        using var dir = new TempDirectory();
        var image = new TestImage { Length = MiB + 7, Seed = 5 };
        await image.WriteFileAsync(dir.File("disk.img"), TestContext.Current.CancellationToken);
        var reports = new List<ManifestBuildProgress>();
        var options = new ManifestBuilderOptions { PieceLength = 16384, ReadChunkSize = 65536, Progress = new SynchronousProgress(reports), MaxDegreeOfParallelism = 1 };

        await ManifestBuilder.CreateAsync(dir.File("disk.img"), options, TestContext.Current.CancellationToken);

        Assert.True(reports.Count > 1);
        Assert.Equal(new ManifestBuildProgress(MiB + 7, MiB + 7), reports[^1]);
    }

    [Fact]
    public async Task CancellationStopsAnImageFileBuild()
    {
        using var dir = new TempDirectory();
        await new TestImage { Length = MiB, Seed = 6 }.WriteFileAsync(dir.File("disk.img"), TestContext.Current.CancellationToken);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ManifestBuilder.CreateAsync(dir.File("disk.img"), null, cts.Token));
    }

    [Fact]
    public async Task ASourceThatEndsEarlyFailsTheBuild()
    {
        var device = new ShortDevice();

        var e = await Assert.ThrowsAsync<IOException>(() => ManifestBuilder.CreateAsync(device, null, TestContext.Current.CancellationToken));

        Assert.Contains("ended at offset", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnImageFileThatShrinksWhileItIsHashedFailsWithAnErrorNamingItInsteadOfCrashing()
    {
        using var temp = new TempDirectory();
        string path = temp.File("shrinking.img");
        byte[] image = new byte[4 * MiB];
        new Random(7).NextBytes(image);
        await File.WriteAllBytesAsync(path, image, TestContext.Current.CancellationToken);

        // Another program cuts the file to nothing once the first piece is hashed (progress is reported on the
        // hashing thread, so the rest is hashed after the cut).
        var options = new ManifestBuilderOptions
        {
            PieceLength = 16 * 1024,
            ReadChunkSize = 16 * 1024,
            MaxDegreeOfParallelism = 1,
            Progress = new OnFirstReport(() => System.Diagnostics.Process.Start("truncate", ["-s", "0", path])!.WaitForExit()),
        };

        IOException error = await Assert.ThrowsAsync<IOException>(() => ManifestBuilder.CreateAsync(path, options, TestContext.Current.CancellationToken));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("shrank", error.Message, StringComparison.Ordinal);
    }

    private sealed class OnFirstReport(Action action) : IProgress<ManifestBuildProgress>
    {
        private int _reported;

        public void Report(ManifestBuildProgress value)
        {
            if (Interlocked.Exchange(ref _reported, 1) == 0)
            {
                action();
            }
        }
    }

    [Fact]
    public async Task CancellationStopsTheBuild()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ManifestBuilder.CreateAsync(new byte[1024 * 1024], "x", null, cts.Token));
    }

    private sealed class SynchronousProgress(List<ManifestBuildProgress> reports) : IProgress<ManifestBuildProgress>
    {
        public void Report(ManifestBuildProgress value)
        {
            lock (reports)
            {
                reports.Add(value);
            }
        }
    }

    // Claims 1 MiB but has only 100 KiB: a truncated image file or a device that shrank.
    private sealed class ShortDevice : BlockTorrent.Devices.IBlockDevice
    {
        public string Name => "short";

        public long Length => 1024 * 1024;

        public int LogicalSectorSize => 512;

        public int PhysicalSectorSize => 512;

        public int MemoryAlignment => 1;

        public bool IsReadOnly => true;

        public bool CanDiscard => false;

        public bool CanZeroRange => false;

        public bool DiscardZeroesData => false;

        public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int count = (int)Math.Clamp(102400 - offset, 0, buffer.Length);
            buffer.Span[..count].Fill(7);
            return ValueTask.FromResult(count);
        }

        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask FlushAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

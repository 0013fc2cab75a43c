using BlockTorrent.Devices;
using BlockTorrent.Testing;
using BlockTorrent.Writing;

namespace BlockTorrent.Tests.Writing;

public sealed class ResumeAndRecheckTests
{
    private const int PieceLength = 64 * 1024;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AResumedWriterKnowsTheFlushedPiecesAndOnlyThose()
    {
        using var dir = new TempDirectory();
        byte[] image = TestImages.Build("rrrrrr");
        var manifest = new HashListManifest(image, PieceLength);
        var device = new MemoryBlockDevice(image.Length);
        await WriteAndSaveResumeAsync(manifest, device, image, dir.File("resume"), flushed: [0, 4], notFlushed: [2]);

        var (second, marked) = await ResumeAsync(manifest, device, dir.File("resume"));
        await using var scope = second;

        Assert.Equal(2, marked);
        Assert.True(second.HasPiece(0) && second.HasPiece(4));
        Assert.False(second.HasPiece(2));
    }

    [Fact]
    public async Task APieceTheResumeStateNamesIsKeptOnlyWhenTheDeviceStillHoldsItsBytes()
    {
        using var dir = new TempDirectory();
        byte[] image = TestImages.Build("rrrrrr");
        var manifest = new HashListManifest(image, PieceLength);
        var device = new MemoryBlockDevice(image.Length);
        await WriteAndSaveResumeAsync(manifest, device, image, dir.File("resume"), flushed: [0, 1, 4], notFlushed: []);

        // Something else writes the device between the two runs.
        await device.WriteAsync(PieceLength + 7, new byte[] { (byte)~image[PieceLength + 7] }, Token);
        var (second, marked) = await ResumeAsync(manifest, device, dir.File("resume"));
        await using var scope = second;

        Assert.Equal(2, marked);
        Assert.True(second.HasPiece(0) && second.HasPiece(4));
        Assert.False(second.HasPiece(1));
        Assert.Equal(2, second.GetStatistics().PiecesOnDevice);
    }

    [Fact]
    public async Task AResumeStateForAnotherDeviceIsRefused()
    {
        byte[] image = TestImages.Build("rr");
        var manifest = new HashListManifest(image, PieceLength);
        await using var writer = new PieceWriter(manifest, new MemoryBlockDevice(image.Length));
        var state = new ResumeState(manifest.InfoHashV2!.Value, "another disk", image.Length, manifest.PieceCount);

        await Assert.ThrowsAsync<ArgumentException>(() => writer.ApplyResumeStateAsync(state, Token));
    }

    [Fact]
    public async Task ARecheckFindsThePiecesAlreadyCorrectSoOnlyTheOthersAreWritten()
    {
        byte[] image = TestImages.Build("rrzrarar");
        var manifest = new HashListManifest(image, PieceLength);
        byte[] old = (byte[])image.Clone();
        old[(3 * PieceLength) + 5] ^= 1;
        old[(6 * PieceLength) + 9] ^= 1;
        var device = new MemoryBlockDevice(old);
        await using var writer = new PieceWriter(manifest, device);

        int found = await writer.RecheckAsync(cancellationToken: Token);

        Assert.Equal(6, found);
        Assert.False(writer.HasPiece(3));
        Assert.False(writer.HasPiece(6));
        await writer.WriteAsync(3, TestImages.Piece(image, PieceLength, 3), cancellationToken: Token);
        var result = await writer.WriteAsync(4, TestImages.Piece(image, PieceLength, 4), cancellationToken: Token);
        Assert.Equal(1, result.CopiesWritten); // only piece 6 of the a-group still needed writing
        Assert.Equal(image, device.Contents.ToArray());
        Assert.Equal(2, device.WriteCount);
    }

    [Fact]
    public async Task ThePieceCheckerNamesThePiecesThatDiffer()
    {
        byte[] image = TestImages.Build("rrrr");
        var manifest = new HashListManifest(image, PieceLength);
        byte[] old = (byte[])image.Clone();
        old[PieceLength] ^= 1;
        var progress = new List<int>();

        var result = await PieceChecker.CheckAsync(manifest, new MemoryBlockDevice(old), new PieceCheckOptions { Parallelism = 2, Progress = new SynchronousProgress(progress) }, Token);

        Assert.Equal([1], result.InvalidPieces);
        Assert.Equal(3, result.ValidCount);
        Assert.Equal(4, progress.Count);
    }

    [Fact]
    public async Task AFailingReadStopsTheCheckWithTheDevicesError()
    {
        byte[] image = TestImages.Build("rrrr");
        var device = new FailingReadDevice(new MemoryBlockDevice(image));

        var error = await Assert.ThrowsAsync<IOException>(() => PieceChecker.CheckAsync(new HashListManifest(image, PieceLength), device, cancellationToken: Token));

        Assert.Equal("unreadable sector", error.Message);
    }

    /// <summary>Writes pieces, flushes, writes more, and saves the resume state the writer then records.</summary>
    private static async Task WriteAndSaveResumeAsync(HashListManifest manifest, MemoryBlockDevice device, byte[] image, string path, int[] flushed, int[] notFlushed)
    {
        await using var writer = new PieceWriter(manifest, device);
        foreach (int piece in flushed)
        {
            await writer.WriteAsync(piece, TestImages.Piece(image, PieceLength, piece), cancellationToken: Token);
        }

        await writer.FlushAsync(Token);
        foreach (int piece in notFlushed)
        {
            await writer.WriteAsync(piece, TestImages.Piece(image, PieceLength, piece), cancellationToken: Token);
        }

        writer.CreateResumeState().Save(path);
    }

    /// <summary>Loads the saved resume state into a new writer and returns it with the number of pieces it kept.</summary>
    private static async Task<(PieceWriter Writer, int Marked)> ResumeAsync(HashListManifest manifest, MemoryBlockDevice device, string path)
    {
        var writer = new PieceWriter(manifest, device);
        Assert.True(ResumeState.TryLoad(path, manifest, device, out ResumeState? state, out string? reason), reason);
        return (writer, await writer.ApplyResumeStateAsync(state, Token));
    }

    private sealed class SynchronousProgress(List<int> values) : IProgress<int>
    {
        public void Report(int value)
        {
            lock (values)
            {
                values.Add(value);
            }
        }
    }

    private sealed class FailingReadDevice(IBlockDevice inner) : IBlockDevice
    {
        public string Name => inner.Name;

        public long Length => inner.Length;

        public int LogicalSectorSize => inner.LogicalSectorSize;

        public int PhysicalSectorSize => inner.PhysicalSectorSize;

        public int MemoryAlignment => inner.MemoryAlignment;

        public bool IsReadOnly => true;

        public bool CanDiscard => false;

        public bool CanZeroRange => false;

        public bool DiscardZeroesData => false;

        public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            offset == 2 * PieceLength ? throw new IOException("unreadable sector") : inner.ReadAsync(offset, buffer, cancellationToken);

        public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask FlushAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

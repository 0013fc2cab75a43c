using BlockTorrent.Devices;
using BlockTorrent.Testing;
using BlockTorrent.Writing;

namespace BlockTorrent.Tests.Writing;

public sealed class PieceWriterFlushBehindTests
{
    private const int PieceLength = 64 * 1024;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PiecesBecomeDurableWhileWritingOnceTheFlushIntervalHasBeenWritten()
    {
        byte[] image = TestImages.Build("rrrr");
        var device = new InterceptingDevice(new MemoryBlockDevice(image.Length));
        await using var writer = new PieceWriter(new HashListManifest(image, PieceLength), device, new PieceWriterOptions { FlushIntervalBytes = 2 * PieceLength });

        await writer.WriteAsync(0, TestImages.Piece(image, PieceLength, 0), cancellationToken: Token);
        await writer.WriteAsync(1, TestImages.Piece(image, PieceLength, 1), cancellationToken: Token);
        await Eventually.TrueAsync(() => writer.IsFlushed(1), Timeout, "the pieces written so far to be flushed in the background", Token);

        Assert.True(writer.IsFlushed(0));
        Assert.False(writer.IsFlushed(2));
        Assert.Equal(1, device.Flushes);
    }

    [Fact]
    public async Task WithoutAFlushIntervalTheDeviceIsFlushedOnlyAtTheEnd()
    {
        byte[] image = TestImages.Build("rrrrrrrr");
        var memory = new MemoryBlockDevice(image.Length);
        var device = new InterceptingDevice(memory);
        await using var writer = new PieceWriter(new HashListManifest(image, PieceLength), device, new PieceWriterOptions { FlushIntervalBytes = 0 });

        for (int p = 0; p < 8; p++)
        {
            await writer.WriteAsync(p, TestImages.Piece(image, PieceLength, p), cancellationToken: Token);
        }

        Assert.False(writer.IsFlushed(0));
        await writer.CompleteAsync(Token);

        Assert.Equal(1, device.Flushes);
        Assert.True(writer.IsFlushed(7));
        Assert.Equal(image, memory.Contents.ToArray());
    }

    [Fact]
    public async Task WritesGoOnWhileABackgroundFlushIsRunning()
    {
        byte[] image = TestImages.Build("rrrr");
        var memory = new MemoryBlockDevice(image.Length);
        var flushing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var device = new InterceptingDevice(memory) { BeforeFlush = (n, _) => n == 1 ? flushing.Task : Task.CompletedTask };
        await using var writer = new PieceWriter(new HashListManifest(image, PieceLength), device, new PieceWriterOptions { FlushIntervalBytes = PieceLength });

        await writer.WriteAsync(0, TestImages.Piece(image, PieceLength, 0), cancellationToken: Token);
        await Eventually.TrueAsync(() => device.Flushes == 1, Timeout, "a background flush to start", Token);
        for (int p = 1; p < 4; p++)
        {
            await writer.WriteAsync(p, TestImages.Piece(image, PieceLength, p), cancellationToken: Token);
        }

        Assert.Equal(1, device.Flushes);
        Assert.False(writer.IsFlushed(0));
        flushing.SetResult();
        await writer.CompleteAsync(Token);

        Assert.True(writer.IsFlushed(3));
        Assert.Equal(image, memory.Contents.ToArray());
    }

    [Fact]
    public async Task AFailedBackgroundFlushFailsCompletionAndEveryLaterFlush()
    {
        byte[] image = TestImages.Build("rrrr");
        var device = new InterceptingDevice(new MemoryBlockDevice(image.Length))
        {
            BeforeFlush = (n, _) => n == 1 ? throw new IOException("write-back failed") : Task.CompletedTask,
        };
        var logger = new ListLogger();
        await using var writer = new PieceWriter(new HashListManifest(image, PieceLength), device, new PieceWriterOptions { FlushIntervalBytes = PieceLength }, logger);

        await writer.WriteAsync(0, TestImages.Piece(image, PieceLength, 0), cancellationToken: Token);
        await Eventually.TrueAsync(() => device.Flushes == 1, Timeout, "a background flush to be attempted", Token);
        await writer.WriteAsync(1, TestImages.Piece(image, PieceLength, 1), cancellationToken: Token);

        var flush = await Assert.ThrowsAsync<IOException>(() => writer.FlushAsync(Token));
        var completion = await Assert.ThrowsAsync<IOException>(() => writer.CompleteAsync(Token));

        Assert.Equal("write-back failed", flush.InnerException?.Message);
        Assert.Same(flush.InnerException, completion.InnerException);
        Assert.False(writer.IsFlushed(0));
        Assert.False(writer.IsFlushed(1));
        await Eventually.TrueAsync(() => logger.Entries.Any(e => e.EventId == 4008), Timeout, "the failed flush to be logged", Token);
    }

    [Fact]
    public async Task DisposingTheWriterDuringABackgroundFlushCancelsIt()
    {
        byte[] image = TestImages.Build("rr");
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var device = new InterceptingDevice(new MemoryBlockDevice(image.Length))
        {
            BeforeFlush = async (_, token) =>
            {
                try
                {
                    await Task.Delay(Timeout, token);
                }
                catch (OperationCanceledException)
                {
                    cancelled.TrySetResult();
                    throw;
                }
            },
        };
        var writer = new PieceWriter(new HashListManifest(image, PieceLength), device, new PieceWriterOptions { FlushIntervalBytes = PieceLength });
        await writer.WriteAsync(0, TestImages.Piece(image, PieceLength, 0), cancellationToken: Token);
        await Eventually.TrueAsync(() => device.Flushes == 1, Timeout, "a background flush to start", Token);

        await writer.DisposeAsync().AsTask().WaitAsync(Timeout, Token);

        Assert.True(cancelled.Task.IsCompleted);
        Assert.False(writer.IsFlushed(0));
    }

    [Fact]
    public void ANegativeFlushIntervalIsRefused()
    {
        byte[] image = TestImages.Build("r");

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new PieceWriter(new HashListManifest(image, PieceLength), new MemoryBlockDevice(image.Length), new PieceWriterOptions { FlushIntervalBytes = -1 }));

        Assert.Equal("FlushIntervalBytes", error.ParamName);
    }
}

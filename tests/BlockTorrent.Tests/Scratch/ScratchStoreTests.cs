using BlockTorrent.Devices;
using BlockTorrent.Scratch;
using BlockTorrent.Testing;
using BlockTorrent.Tests.Writing;

namespace BlockTorrent.Tests.Scratch;

public sealed class ScratchStoreTests : IDisposable
{
    private const int Slot = 4096;
    private readonly TempDirectory _dir = new();

    public static TheoryData<string> Kinds => ["memory", "file", "region"];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public void Dispose() => _dir.Dispose();

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task AStoredPieceReadsBackExactly(string kind)
    {
        await using IScratchStore store = Create(kind, 3 * Slot);
        byte[] data = Bytes(Slot - 10, 1);

        Assert.True(await store.TryStoreAsync(7, data, Token));
        byte[] back = new byte[Slot];
        int read = await store.ReadAsync(7, back, Token);

        Assert.Equal(data.Length, read);
        Assert.Equal(data, back[..read]);
        Assert.True(store.Contains(7));
        Assert.Equal((1, (long)data.Length), (store.Count, store.BytesUsed));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task AFullStoreRefusesUntilAPieceIsRemoved(string kind)
    {
        await using IScratchStore store = Create(kind, 2 * Slot);
        Assert.True(await store.TryStoreAsync(0, Bytes(Slot, 1), Token));
        Assert.True(await store.TryStoreAsync(1, Bytes(Slot, 2), Token));

        Assert.False(await store.TryStoreAsync(2, Bytes(Slot, 3), Token));
        Assert.True(await store.RemoveAsync(0, Token));
        Assert.True(await store.TryStoreAsync(2, Bytes(Slot, 3), Token));

        byte[] back = new byte[Slot];
        await store.ReadAsync(1, back, Token);
        Assert.Equal(Bytes(Slot, 2), back);
        Assert.True(store.BytesUsed <= store.Capacity);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task StoringAPieceTwiceIsRefused(string kind)
    {
        await using IScratchStore store = Create(kind, 2 * Slot);
        await store.TryStoreAsync(4, Bytes(10, 1), Token);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.TryStoreAsync(4, Bytes(10, 1), Token));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task ReadingAMissingPieceThrowsKeyNotFound(string kind)
    {
        await using IScratchStore store = Create(kind, Slot);

        await Assert.ThrowsAsync<KeyNotFoundException>(async () => await store.ReadAsync(1, new byte[Slot], Token));
        Assert.False(await store.RemoveAsync(1, Token));
    }

    [Fact]
    public async Task ARegionStoreNeverWritesOutsideItsRegion()
    {
        byte[] contents = new byte[10 * Slot];
        Array.Fill(contents, (byte)0xC5);
        var device = new MemoryBlockDevice(contents);
        await using var store = new FileScratchStore(device, 3 * Slot, 4 * Slot, Slot);

        for (int p = 0; p < 10; p++)
        {
            if (!await store.TryStoreAsync(p, Bytes(Slot, p), Token))
            {
                await store.RemoveAsync(p - 4, Token);
                Assert.True(await store.TryStoreAsync(p, Bytes(Slot, p), Token));
            }
        }

        Assert.Equal(4, store.SlotCount);
        Assert.True(contents.AsSpan(0, 3 * Slot).IndexOfAnyExcept((byte)0xC5) < 0);
        Assert.True(contents.AsSpan(7 * Slot).IndexOfAnyExcept((byte)0xC5) < 0);
    }

    [Fact]
    public async Task APieceLongerThanASlotIsRefused()
    {
        await using var store = FileScratchStore.Create(_dir.File("s.bin"), 2 * Slot, Slot);

        await Assert.ThrowsAsync<ArgumentException>(async () => await store.TryStoreAsync(0, new byte[Slot + 1], Token));
    }

    [Fact]
    public async Task AFailedWriteGivesItsSlotBack()
    {
        var device = new InterceptingDevice(new MemoryBlockDevice(Slot))
        {
            BeforeWrite = (n, _, _) => n == 1 ? throw new IOException("no") : Task.CompletedTask,
        };
        await using var store = new FileScratchStore(device, 0, Slot, Slot);

        await Assert.ThrowsAsync<IOException>(async () => await store.TryStoreAsync(0, Bytes(Slot, 1), Token));

        Assert.False(store.Contains(0));
        Assert.True(await store.TryStoreAsync(0, Bytes(Slot, 1), Token));
    }

    [Fact]
    public async Task APieceRemovedWhileItIsBeingReadKeepsItsSlotUntilTheReadEnds()
    {
        var device = new HeldReadDevice(new MemoryBlockDevice(Slot));
        await using var store = new FileScratchStore(device, 0, Slot, Slot);
        Assert.True(await store.TryStoreAsync(0, Bytes(Slot, 7), Token));
        byte[] read = new byte[Slot];

        Task<int> reading = store.ReadAsync(0, read, Token).AsTask();
        await device.ReadStarted.Task.WaitAsync(TimeSpan.FromSeconds(30), Token);
        Assert.True(await store.RemoveAsync(0, Token));
        bool storedDuringRead = await store.TryStoreAsync(1, Bytes(Slot, 9), Token);
        device.Release.SetResult();
        await reading;

        Assert.False(storedDuringRead);
        Assert.Equal(Bytes(Slot, 7), read);
        Assert.True(await store.TryStoreAsync(1, Bytes(Slot, 9), Token));
    }

    [Fact]
    public async Task ATemporaryFileStoreDeletesItsFileOnDispose()
    {
        string path = _dir.File("s.bin");
        var store = FileScratchStore.Create(path, 5 * Slot + 100, Slot);
        Assert.Equal(5 * Slot, store.Capacity);
        Assert.True(File.Exists(path));

        await store.DisposeAsync();

        Assert.False(File.Exists(path));
    }

    private IScratchStore Create(string kind, long capacity) => kind switch
    {
        "memory" => new MemoryScratchStore(capacity),
        "file" => FileScratchStore.Create(_dir.File(Guid.NewGuid().ToString("N")), capacity, Slot),
        _ => new FileScratchStore(new MemoryBlockDevice(capacity + (2 * Slot)), Slot, capacity, Slot),
    };

    private static byte[] Bytes(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>A device whose reads wait until the test releases them.</summary>
    private sealed class HeldReadDevice(IBlockDevice inner) : PassThroughDevice(inner)
    {
        public TaskCompletionSource ReadStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ReadStarted.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
            return await Inner.ReadAsync(offset, buffer, cancellationToken);
        }
    }
}

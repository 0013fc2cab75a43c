using System.Runtime.InteropServices;
using BlockTorrent.Testing;
using FsCheck.Fluent;

namespace BlockTorrent.Devices.Linux.Tests;

public sealed class WriteTests
{
    private const int DeviceLength = 1 << 20;

    [Theory]
    [InlineData(512)]
    [InlineData(4096)]
    public async Task WritesAtAnyOffsetAndLengthReadBackExactly(int sectorSize)
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, DeviceLength, sectorSize);
        var model = new byte[DeviceLength];
        await using (var device = LinuxBlockDevice.Open(loop.Path))
        {
            var writes =
                from offset in Gen.Choose(0, DeviceLength - 1)
                from length in Gen.Choose(1, Math.Min(3 * sectorSize + 17, DeviceLength - offset))
                from seed in Gen.Choose(0, int.MaxValue)
                select (offset, length, seed);
            var property = Prop.ForAll(Arb.From(writes), write =>
            {
                var data = new byte[write.length];
                new Random(write.seed).NextBytes(data);
                device.WriteAsync(write.offset, data).AsTask().GetAwaiter().GetResult();
                data.CopyTo(model, write.offset);

                var back = new byte[write.length];
                int read = device.ReadAsync(write.offset, back).AsTask().GetAwaiter().GetResult();
                return read == write.length && back.AsSpan().SequenceEqual(data);
            });
            property.CheckSeeded(maxTest: 60);

            var whole = new byte[DeviceLength];
            Assert.Equal(DeviceLength, await device.ReadAsync(0, whole, TestContext.Current.CancellationToken));
            Assert.True(whole.AsSpan().SequenceEqual(model), "the device does not hold what was written");
        }

        Assert.True(loop.ReadBackingFile().AsSpan().SequenceEqual(model), "the backing file does not hold what was written");
    }

    [Fact]
    public async Task ConcurrentUnalignedWritesThatShareSectorsDoNotUndoEachOther()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, DeviceLength, sectorSize: 4096);
        var expected = new byte[DeviceLength];
        new Random(7).NextBytes(expected);

        // Pieces of 1000 bytes: almost every 4096-byte sector is shared by several concurrent writers.
        const int PieceLength = 1000;
        await using (var device = LinuxBlockDevice.Open(loop.Path))
        {
            var pieces = Enumerable.Range(0, DeviceLength / PieceLength).OrderBy(i => (i * 7919) % 1021).ToArray();
            await Parallel.ForEachAsync(pieces, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (piece, ct) =>
                await device.WriteAsync(piece * (long)PieceLength, expected.AsMemory(piece * PieceLength, PieceLength), ct));
            int tail = DeviceLength / PieceLength * PieceLength;
            await device.WriteAsync(tail, expected.AsMemory(tail), TestContext.Current.CancellationToken);
        }

        Assert.True(loop.ReadBackingFile().AsSpan().SequenceEqual(expected), "a concurrent read-modify-write lost bytes of a neighbour");
    }

    [Fact]
    public async Task AlignedWritesFromAlignedNativeMemoryReadBackExactly()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, DeviceLength, sectorSize: 4096);
        using var memory = new NativeAlignedMemory(256 << 10, 4096);
        new Random(3).NextBytes(memory.Memory.Span);

        await using (var device = LinuxBlockDevice.Open(loop.Path))
        {
            await device.WriteAsync(512 << 10, memory.Memory, TestContext.Current.CancellationToken);
            Assert.Equal((1L, 0L), (device.DirectTransfers, device.BouncedTransfers));
            var back = new byte[256 << 10];
            await device.ReadAsync(512 << 10, back, TestContext.Current.CancellationToken);
            Assert.True(back.AsSpan().SequenceEqual(memory.Memory.Span));
        }

        Assert.True(loop.ReadBackingFile().AsSpan(512 << 10, 256 << 10).SequenceEqual(memory.Memory.Span));
    }

    [Fact]
    public async Task AGatheredWritePutsTheBuffersBackToBack()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, DeviceLength);
        using var first = new NativeAlignedMemory(64 << 10, 4096);
        using var second = new NativeAlignedMemory(128 << 10, 4096);
        new Random(1).NextBytes(first.Memory.Span);
        new Random(2).NextBytes(second.Memory.Span);
        var unaligned = new byte[777];
        new Random(3).NextBytes(unaligned);

        await using (var device = LinuxBlockDevice.Open(loop.Path))
        {
            await device.WriteGatherAsync(4096, [first.Memory, second.Memory], TestContext.Current.CancellationToken);
            Assert.Equal((1L, 0L), (device.DirectTransfers, device.BouncedTransfers));
            await device.WriteGatherAsync(300_000, [unaligned, first.Memory], TestContext.Current.CancellationToken);
        }

        byte[] file = loop.ReadBackingFile();
        Assert.True(file.AsSpan(4096, 64 << 10).SequenceEqual(first.Memory.Span));
        Assert.True(file.AsSpan(4096 + (64 << 10), 128 << 10).SequenceEqual(second.Memory.Span));
        Assert.True(file.AsSpan(300_000, 777).SequenceEqual(unaligned));
        Assert.True(file.AsSpan(300_777, 64 << 10).SequenceEqual(first.Memory.Span));
    }

    [Fact]
    public async Task AWriteReachingPastTheEndThrowsAndWritesNothing()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, DeviceLength);
        await using (var device = LinuxBlockDevice.Open(loop.Path))
        {
            await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await device.WriteAsync(DeviceLength - 100, new byte[101].Select(_ => (byte)1).ToArray(), TestContext.Current.CancellationToken));
        }

        Assert.All(loop.ReadBackingFile(), b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task AReadAtTheEndReturnsOnlyTheBytesThatExist()
    {
        LoopDevice.Require();
        using var temp = new TempDirectory();
        await using var loop = await LoopDevice.CreateAsync(temp, DeviceLength);
        await using var device = LinuxBlockDevice.Open(loop.Path);

        Assert.Equal(100, await device.ReadAsync(DeviceLength - 100, new byte[4096], TestContext.Current.CancellationToken));
        Assert.Equal(0, await device.ReadAsync(DeviceLength, new byte[16], TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task UnalignedWritesToAnImageFileReadBackExactly()
    {
        using var temp = new TempDirectory();
        string path = temp.File("image.raw");
        var data = new byte[12345];
        new Random(5).NextBytes(data);
        await using (var device = LinuxBlockDevice.CreateImageFile(path, 100_000))
        {
            await device.WriteAsync(777, data, TestContext.Current.CancellationToken);
            await device.WriteGatherAsync(50_001, [data.AsMemory(0, 10), data.AsMemory(10, 5)], TestContext.Current.CancellationToken);
        }

        byte[] file = File.ReadAllBytes(path);
        Assert.Equal(100_000, file.Length);
        Assert.True(file.AsSpan(777, data.Length).SequenceEqual(data));
        Assert.True(file.AsSpan(50_001, 15).SequenceEqual(data.AsSpan(0, 15)));
    }

    /// <summary>Page-aligned native memory, the kind the piece writer hands the device.</summary>
    private sealed unsafe class NativeAlignedMemory : System.Buffers.MemoryManager<byte>
    {
        private readonly byte* _pointer;
        private readonly int _length;

        public NativeAlignedMemory(int length, int alignment)
        {
            _length = length;
            _pointer = (byte*)NativeMemory.AlignedAlloc((nuint)length, (nuint)alignment);
        }

        public override Span<byte> GetSpan() => new(_pointer, _length);

        public override System.Buffers.MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing) => NativeMemory.AlignedFree(_pointer);
    }
}

using BlockTorrent.Testing;
using FsCheck;
using FsCheck.Fluent;

namespace BlockTorrent.Devices.Windows.Tests;

public sealed class BounceTransferTests
{
    [Fact]
    public void AnUnalignedWriteChangesExactlyItsBytesAndNothingAround()
    {
        Gen<(int Sector, int Bounce, int Offset, byte[] Data)> writes =
            from sector in Gen.Elements(512, 4096)
            from sectorsPerBounce in Gen.Choose(1, 8)
            from offset in Gen.Choose(0, 60_000)
            from length in Gen.Choose(0, 50_000)
            from seed in Gen.Choose(1, int.MaxValue)
            select (sector, sector * sectorsPerBounce, offset, Pattern(length, seed));

        Prop.ForAll(writes.ToArbitrary(), w =>
        {
            var disk = new SectorDisk(128 * 1024, w.Sector);
            byte[] expected = disk.Snapshot();
            w.Data.CopyTo(expected, w.Offset);

            BounceTransfer.WriteAsync(disk.ReadAsync, disk.WriteAsync, new byte[w.Bounce], w.Sector, w.Offset, w.Data, CancellationToken.None)
                .AsTask().GetAwaiter().GetResult();

            return disk.Snapshot().AsSpan().SequenceEqual(expected);
        }).CheckSeeded();
    }

    [Fact]
    public void AnUnalignedReadReturnsExactlyTheRequestedBytes()
    {
        Gen<(int Sector, int Bounce, int Offset, int Length)> reads =
            from sector in Gen.Elements(512, 4096)
            from sectorsPerBounce in Gen.Choose(1, 8)
            from offset in Gen.Choose(0, 60_000)
            from length in Gen.Choose(0, 50_000)
            select (sector, sector * sectorsPerBounce, offset, length);

        Prop.ForAll(reads.ToArbitrary(), r =>
        {
            var disk = new SectorDisk(128 * 1024, r.Sector);
            byte[] buffer = new byte[r.Length];

            BounceTransfer.ReadAsync(disk.ReadAsync, new byte[r.Bounce], r.Sector, r.Offset, buffer, CancellationToken.None)
                .AsTask().GetAwaiter().GetResult();

            return buffer.AsSpan().SequenceEqual(disk.Snapshot().AsSpan(r.Offset, r.Length));
        }).CheckSeeded();
    }

    [Fact]
    public async Task AWriteInsideOneSectorReadsThatSectorOnce()
    {
        var disk = new SectorDisk(8192, 512);

        await BounceTransfer.WriteAsync(disk.ReadAsync, disk.WriteAsync, new byte[4096], 512, 700, new byte[] { 1, 2, 3 }, TestContext.Current.CancellationToken);

        Assert.Equal((1, 1), (disk.Reads, disk.Writes));
    }

    [Fact]
    public async Task AnEmptyTransferAtAnUnalignedOffsetTouchesNoSector()
    {
        var disk = new SectorDisk(8192, 512);
        CancellationToken ct = TestContext.Current.CancellationToken;

        await BounceTransfer.WriteAsync(disk.ReadAsync, disk.WriteAsync, new byte[4096], 512, 700, ReadOnlyMemory<byte>.Empty, ct);
        await BounceTransfer.ReadAsync(disk.ReadAsync, new byte[4096], 512, 700, Memory<byte>.Empty, ct);

        Assert.Equal((0, 0), (disk.Reads, disk.Writes));
    }

    [Fact]
    public async Task AWriteOfWholeSectorsFromAnUnalignedBufferReadsNothing()
    {
        var disk = new SectorDisk(65536, 512);

        await BounceTransfer.WriteAsync(disk.ReadAsync, disk.WriteAsync, new byte[4096], 512, 1024, new byte[8192], TestContext.Current.CancellationToken);

        Assert.Equal((0, 2), (disk.Reads, disk.Writes));
    }

    private static byte[] Pattern(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>A disk in memory that, like FILE_FLAG_NO_BUFFERING, refuses any transfer that is not whole sectors.</summary>
    private sealed class SectorDisk
    {
        private readonly byte[] _bytes;
        private readonly int _sector;

        internal SectorDisk(int length, int sector)
        {
            _bytes = new byte[length];
            new Random(length ^ sector).NextBytes(_bytes);
            _sector = sector;
        }

        internal int Reads { get; private set; }

        internal int Writes { get; private set; }

        internal byte[] Snapshot() => (byte[])_bytes.Clone();

        internal ValueTask ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Check(offset, buffer.Length);
            Reads++;
            _bytes.AsSpan((int)offset, buffer.Length).CopyTo(buffer.Span);
            return ValueTask.CompletedTask;
        }

        internal ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Check(offset, data.Length);
            Writes++;
            data.Span.CopyTo(_bytes.AsSpan((int)offset));
            return ValueTask.CompletedTask;
        }

        private void Check(long offset, int length)
        {
            if (offset % _sector != 0 || length % _sector != 0 || length == 0 || offset + length > _bytes.Length)
            {
                throw new IOException($"Unaligned or out-of-range transfer: offset {offset}, length {length}, sector {_sector}.");
            }
        }
    }
}

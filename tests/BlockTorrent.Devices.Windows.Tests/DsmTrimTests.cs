using System.Buffers.Binary;
using BlockTorrent.Testing;
using FsCheck;
using FsCheck.Fluent;

namespace BlockTorrent.Devices.Windows.Tests;

public sealed class DsmTrimTests
{
    [Fact]
    public void ATrimRequestHasTheDocumentedHeaderAndItsRangeAtOffset32()
    {
        byte[] input = Assert.Single(DsmTrim.BuildRequests(1 << 20, 64 << 20));

        Assert.Equal(32 + 16, input.Length);
        Assert.Equal(28u, BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(0)));  // Size
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(4)));   // Action: DeviceDsmAction_Trim
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(8)));   // Flags
        Assert.Equal(0u, BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(16)));  // ParameterBlockLength
        Assert.Equal(32u, BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(20))); // DataSetRangesOffset
        Assert.Equal(16u, BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(24))); // DataSetRangesLength
        Assert.Equal(1L << 20, BinaryPrimitives.ReadInt64LittleEndian(input.AsSpan(32)));
        Assert.Equal(64UL << 20, BinaryPrimitives.ReadUInt64LittleEndian(input.AsSpan(40)));
    }

    [Fact]
    public void TrimRequestsCoverTheRangeExactlyInBoundedPieces()
    {
        Gen<(long Offset, long Length)> ranges =
            from offsetSectors in Gen.Choose(0, int.MaxValue)
            from lengthMiB in Gen.Choose(0, 300_000)
            from extraSectors in Gen.Choose(0, 2047)
            select (offsetSectors * 512L, (lengthMiB * (1L << 20)) + (extraSectors * 512L));

        Prop.ForAll(ranges.ToArbitrary(), r =>
        {
            long position = r.Offset;
            foreach (byte[] input in DsmTrim.BuildRequests(r.Offset, r.Length))
            {
                int count = (int)BinaryPrimitives.ReadUInt32LittleEndian(input.AsSpan(24)) / 16;
                if (count is 0 or > DsmTrim.MaxRangesPerRequest || input.Length != 32 + (count * 16))
                {
                    return false;
                }

                for (int i = 0; i < count; i++)
                {
                    long start = BinaryPrimitives.ReadInt64LittleEndian(input.AsSpan(32 + (i * 16)));
                    long length = (long)BinaryPrimitives.ReadUInt64LittleEndian(input.AsSpan(40 + (i * 16)));
                    if (start != position || length <= 0 || length > DsmTrim.MaxRangeLength)
                    {
                        return false;
                    }

                    position += length;
                }
            }

            return position == r.Offset + r.Length;
        }).CheckSeeded();
    }

    [Fact]
    public void AnEmptyRangeNeedsNoRequest() => Assert.Empty(DsmTrim.BuildRequests(4096, 0));
}

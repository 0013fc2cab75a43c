using BlockTorrent.Testing;
using FsCheck;
using FsCheck.Fluent;

namespace BlockTorrent.Devices.Windows.Tests;

public sealed class SectorArithmeticTests
{
    private static readonly Gen<int> SectorSizes = Gen.Elements(512, 4096);

    [Fact]
    public void BounceChunksCoverExactlyTheRequestInDeviceOrder()
    {
        Gen<(long Offset, int Length, int Sector, int Bounce)> requests =
            from sector in SectorSizes
            from offset in Gen.Choose(0, 1 << 22)
            from length in Gen.Choose(0, 1 << 18)
            from sectorsPerBounce in Gen.Choose(1, 64)
            select ((long)offset, length, sector, sector * sectorsPerBounce);

        Prop.ForAll(requests.ToArbitrary(), r =>
        {
            List<BounceChunk> chunks = BounceChunk.Plan(r.Offset, r.Length, r.Sector, r.Bounce);
            int consumed = 0;
            long device = r.Length == 0 ? 0 : r.Offset - (r.Offset % r.Sector);
            foreach (BounceChunk chunk in chunks)
            {
                bool aligned = chunk.DeviceOffset % r.Sector == 0 && chunk.Length % r.Sector == 0 && chunk.Length <= r.Bounce;
                bool contiguous = chunk.DeviceOffset == device && chunk.DataOffset == consumed;
                bool placed = chunk.DeviceOffset + chunk.BufferOffset == r.Offset + chunk.DataOffset
                    && chunk.BufferOffset + chunk.DataLength <= chunk.Length && chunk.DataLength > 0;
                if (!(aligned && contiguous && placed))
                {
                    return false;
                }

                consumed += chunk.DataLength;
                device += chunk.Length;
            }

            // The chunks end at the sector that holds the last byte: no sector is touched that holds none of the data.
            bool tight = chunks.Count == 0 || device - (chunks[^1].DeviceOffset + chunks[^1].BufferOffset + chunks[^1].DataLength) < r.Sector;
            return consumed == r.Length && tight;
        }).CheckSeeded();
    }

    [Fact]
    public void AnEmptyRequestAtAnUnalignedOffsetHasNoChunks()
    {
        // The property's counterexample: a zero-length request pointing into a sector planned one chunk for that sector.
        Assert.Empty(BounceChunk.Plan(370441L, 0, 4096, 212992));
    }

    [Fact]
    public void WholeUnitsAreTheLargestAlignedRunInsideTheRange()
    {
        Gen<(long Offset, long Length, long Unit, long Origin)> ranges =
            from unitSectors in Gen.Choose(1, 2048)
            from origin in Gen.Choose(0, 2047)
            from offset in Gen.Choose(0, 1 << 30)
            from length in Gen.Choose(0, 1 << 30)
            select ((long)offset, (long)length, unitSectors * 512L, (origin % unitSectors) * 512L);

        Prop.ForAll(ranges.ToArbitrary(), r =>
        {
            bool found = SectorMath.TryGetWholeUnits(r.Offset, r.Length, r.Unit, r.Origin, out long start, out long end);
            long limit = r.Offset + r.Length;
            if (!found)
            {
                // Not even one unit fits: the first unit boundary at or after the offset leaves no room for a unit.
                long first = r.Origin + ((r.Offset - r.Origin + r.Unit - 1) / r.Unit * r.Unit);
                return first < r.Offset ? first + r.Unit + r.Unit > limit : first + r.Unit > limit;
            }

            bool inside = start >= r.Offset && end <= limit && start < end;
            bool aligned = (start - r.Origin) % r.Unit == 0 && (end - r.Origin) % r.Unit == 0;
            bool maximal = start - r.Unit < r.Offset && end + r.Unit > limit;
            return inside && aligned && maximal;
        }).CheckSeeded(maxTest: 2000);
    }

    [Fact]
    public void TheFirstWholeUnitMayStartAtTheUnitOriginItself()
    {
        // The range starts before the first unit boundary (the origin): that boundary is the start.
        Assert.True(SectorMath.TryGetWholeUnits(399_332, 319_807_014, 496_128, 483_840, out long start, out long end));
        Assert.Equal(483_840, start);
        Assert.Equal(483_840 + (644 * 496_128L), end);
    }

    [Theory]
    [InlineData(0, 4096, 0x1000, true)]
    [InlineData(512, 512, 0x2000, true)]
    [InlineData(100, 512, 0x1000, false)]
    [InlineData(0, 100, 0x1000, false)]
    [InlineData(0, 4096, 0x1200, false)]
    public void ATransferIsDirectOnlyWhenOffsetLengthAndAddressAreAligned(long offset, long length, int address, bool direct) =>
        Assert.Equal(direct, SectorMath.IsDirect(offset, length, (nuint)address, 512, 4096));

    [Theory]
    [InlineData(0, 512, 0)]
    [InlineData(1, 512, 512)]
    [InlineData(511, 512, 512)]
    [InlineData(4097, 4096, 8192)]
    public void AlignUpRoundsToTheNextBoundary(long value, long alignment, long expected) =>
        Assert.Equal(expected, SectorMath.AlignUp(value, alignment));
}

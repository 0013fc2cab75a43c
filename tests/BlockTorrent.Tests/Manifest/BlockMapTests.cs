using System.Buffers.Binary;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Manifest;

public sealed class BlockMapTests
{
    private const int B = BlockMap.BlockSize;

    [Fact]
    public void EveryMappedBlockAndItsSourceSurviveEncodingAndEachPieceSeesExactlyItsOwn() => Prop.ForAll(PropertyCheck.ScenarioSeeds, seed => EveryMappedBlockAndItsSourceSurviveEncodingAndEachPieceSeesExactlyItsOwnFor(seed)).CheckSeeded(maxTest: 300);

    private static bool EveryMappedBlockAndItsSourceSurviveEncodingAndEachPieceSeesExactlyItsOwnFor(int seed)
    {
        var random = new Random(seed);
        int blocks = random.Next(1, 1500);
        var expected = new List<(long Block, long Source)>();
        var data = new List<long>();
        var builder = new BlockMap.Builder();
        for (long b = 0; b < blocks; b++)
        {
            int roll = random.Next(10);
            if (roll < 3)
            {
                expected.Add((b, BlockMap.Zero));
            }
            else if (roll < 5 && data.Count > 0)
            {
                // Runs of consecutive copies merge, so copy the block after the last copy's source now and then.
                long source = expected.Count > 0 && expected[^1].Block == b - 1 && expected[^1].Source >= 0 && data.Contains(expected[^1].Source + 1) && random.Next(2) == 0
                    ? expected[^1].Source + 1
                    : data[random.Next(data.Count)];
                expected.Add((b, source));
            }
            else
            {
                data.Add(b);
                continue;
            }

            builder.Add(expected[^1].Block, expected[^1].Source);
        }

        BlockMap map = BlockMap.Parse(builder.Build().Encode(), ((long)blocks * B) + random.Next(B));
        int blocksPerPiece = 1 << random.Next(0, 8);

        Assert.Equal(expected, BlockImages.Mapped(map, blocks, blocksPerPiece));
        Assert.Equal(expected.Count(e => e.Source == BlockMap.Zero), map.ZeroBlocks);
        Assert.Equal(expected.Count(e => e.Source != BlockMap.Zero), map.RepeatedBlocks);
        Assert.True(map.RunCount <= expected.Count);
        return true;
    }

    public static TheoryData<string, uint[]> BrokenMaps() => new()
    {
        { "a record cut short", [0, 1] },
        { "an empty run", [0, 0, uint.MaxValue] },
        { "runs out of order", [4, 1, uint.MaxValue, 2, 1, uint.MaxValue] },
        { "runs that overlap", [2, 3, uint.MaxValue, 4, 1, uint.MaxValue] },
        { "a run beyond the image's full blocks", [7, 2, uint.MaxValue] },
        { "a copy of a later block", [2, 1, 5] },
        { "a copy of itself", [2, 2, 3] },
        { "a copy of a mapped block", [1, 1, uint.MaxValue, 3, 1, 1] },
    };

    [Theory]
    [MemberData(nameof(BrokenMaps))]
    public void AMapThatBreaksItsRulesIsRefusedWithTheManifest(string what, uint[] words)
    {
        byte[] data = new byte[words.Length * 4];
        for (int i = 0; i < words.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(i * 4), words[i]);
        }

        var error = Assert.Throws<InvalidTorrentException>(() => BlockMap.Parse(data, (8L * B) + 100));
        Assert.Contains(BlockMap.Key, error.Message, StringComparison.Ordinal);
        Assert.NotNull(what);
    }

    [Fact]
    public async Task CreateMapsZeroAndRepeatedBlocksInsidePiecesButNotWholeZeroOrDuplicatePieces()
    {
        // Pieces of 4 blocks: piece 1 is all zeros and piece 3 repeats piece 0, so neither travels and neither is mapped.
        byte[] image = BlockImages.Build("rzr0 zzzz r1zr 0z10", seed: 3);

        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice(image), new ManifestBuilderOptions { PieceLength = 4 * B, Name = "blocks.img" }, TestContext.Current.CancellationToken);

        Assert.Equal(1, manifest.ZeroPieceCount);
        Assert.Equal(1, manifest.DuplicatePieceCount);
        Assert.NotNull(manifest.Blocks);
        Assert.Equal([(1L, BlockMap.Zero), (3L, 0L), (9L, 2L), (10L, BlockMap.Zero)], BlockImages.Mapped(manifest.Blocks, 16, 4));
    }

    [Fact]
    public async Task TheMapTravelsInTheTorrentFileOutsideTheInfoHash()
    {
        byte[] image = BlockImages.Build("rzzr r0rz zrr1", seed: 5, tail: 1000);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice(image), new ManifestBuilderOptions { PieceLength = 4 * B, Name = "blocks.img" }, TestContext.Current.CancellationToken);

        TorrentManifest parsed = TorrentManifest.Parse(manifest.ToTorrentBytes());
        TorrentManifest without = manifest.WithBlocks(null);

        Assert.Equal(manifest.Blocks!.Encode(), parsed.Blocks!.Encode());
        Assert.Equal(manifest.InfoHashV2, without.InfoHashV2);
        Assert.Equal(manifest.InfoHashV1, without.InfoHashV1);
        Assert.Null(TorrentManifest.Parse(without.ToTorrentBytes()).Blocks);
        Assert.Equal(without.ToTorrentBytes().Length + BlockMap.Key.Length + 3 + manifest.Blocks.Encode().Length + manifest.Blocks.Encode().Length.ToString(System.Globalization.CultureInfo.InvariantCulture).Length + 1, manifest.ToTorrentBytes().Length);
    }

    [Fact]
    public async Task AV1OnlyManifestHasNoLeavesSoNoMap()
    {
        byte[] image = BlockImages.Build("rzzr r0rz", seed: 5);

        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice(image), new ManifestBuilderOptions { PieceLength = 4 * B, Name = "blocks.img", Versions = TorrentVersions.V1 }, TestContext.Current.CancellationToken);

        Assert.Null(manifest.Blocks);
    }

    [Fact]
    public async Task AnImageFileWithHolesGetsTheSameMapAsItsBytesInMemory()
    {
        byte[] image = BlockImages.Build("rzzr zzzz r0rz zzzr", seed: 9);
        string path = Path.Combine(Path.GetTempPath(), $"blockmap-{Guid.NewGuid():N}.img");
        try
        {
            await using (var file = new FileStream(path, FileMode.CreateNew))
            {
                // Only the blocks with data are written: the zero blocks stay holes of the sparse file.
                for (int b = 0; b < image.Length / B; b++)
                {
                    if (image.AsSpan(b * B, B).ContainsAnyExcept((byte)0))
                    {
                        file.Position = (long)b * B;
                        await file.WriteAsync(image.AsMemory(b * B, B), TestContext.Current.CancellationToken);
                    }
                }

                file.SetLength(image.Length);
            }

            var options = new ManifestBuilderOptions { PieceLength = 4 * B, Name = "blocks.img" };
            TorrentManifest fromFile = await ManifestBuilder.CreateAsync(path, options, TestContext.Current.CancellationToken);
            TorrentManifest fromMemory = await ManifestBuilder.CreateAsync(new MemoryBlockDevice(image), options, TestContext.Current.CancellationToken);

            Assert.Equal(fromMemory.Blocks!.Encode(), fromFile.Blocks!.Encode());
            Assert.Equal([(1L, BlockMap.Zero), (2L, BlockMap.Zero), (9L, 0L), (11L, BlockMap.Zero), (12L, BlockMap.Zero), (13L, BlockMap.Zero), (14L, BlockMap.Zero)], BlockImages.Mapped(fromFile.Blocks, 16, 4));
        }
        finally
        {
            File.Delete(path);
        }
    }
}

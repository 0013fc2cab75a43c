using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// Every seed mode on every shape of image: zero runs and duplicate pieces are what a target fills in itself and never
/// requests, which a dense image never shows.
/// </summary>
public sealed class RealisticImageDeployTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public static TheoryData<SeedMode, TestImageShape> ModesAndShapes()
    {
        var data = new TheoryData<SeedMode, TestImageShape>();
        foreach (SeedMode mode in Enum.GetValues<SeedMode>())
        {
            foreach (TestImageShape shape in Enum.GetValues<TestImageShape>())
            {
                data.Add(mode, shape);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ModesAndShapes))]
    public async Task TwoTargetsEndBitExactWhateverTheSeedModeAndTheShapeOfTheImage(SeedMode mode, TestImageShape shape)
    {
        // 32 MiB in 256 KiB pieces: a super-seed offers four at a time, as to the fleets that stalled on duplicates.
        var (image, manifest) = await SwarmFleet.CreateAsync(TestImage.Realistic(shape, 256 * 1024, 128, seed: 3));

        var (targets, outcome) = await SwarmFleet.DeployAsync(image, manifest, mode, 2, Bound, TestContext.Current.CancellationToken);

        Assert.True(targets is not null, outcome);
        Assert.All(targets, t => Assert.Equal(image, t.Contents.ToArray()));
    }

    [Fact]
    public void TheShapesHoldWhatTheirNamesSay()
    {
        static (int Zero, int Repeat) Count(TestImageShape shape)
        {
            TestImage image = TestImage.Realistic(shape, 64 * 1024, 200, seed: 3);
            var kinds = Enumerable.Range(0, (int)image.BlockCount).Select(b => image.GetBlockKind(b)).ToList();
            Assert.True(image.Length % image.BlockSize != 0, "the last piece is short");
            return (kinds.Count(k => k == TestImage.BlockKind.Zero), kinds.Count(k => k == TestImage.BlockKind.Repeat));
        }

        Assert.Equal((0, 0), Count(TestImageShape.Dense));
        Assert.InRange(Count(TestImageShape.ZeroRuns).Zero, 60, 140);
        Assert.Equal(0, Count(TestImageShape.ZeroRuns).Repeat);
        Assert.InRange(Count(TestImageShape.Duplicates).Repeat, 50, 110);
        Assert.Equal(0, Count(TestImageShape.Duplicates).Zero);
        Assert.InRange(Count(TestImageShape.ZerosAndDuplicates).Zero, 60, 140);
        Assert.InRange(Count(TestImageShape.ZerosAndDuplicates).Repeat, 10, 60);
    }
}

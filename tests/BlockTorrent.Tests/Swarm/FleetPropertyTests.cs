using BlockTorrent.Testing;
using FsCheck;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// Whatever the image's shape, the piece size, the number of targets and the seed mode, every target ends bit-exact:
/// one seed and its targets on loopback, with memory devices, so a case takes about a second. The run's seed is
/// printed and fixed in CI (<see cref="PropertyCheck"/>); <c>BLOCKTORRENT_FSCHECK_MAX_TEST</c> runs more cases.
/// </summary>
public sealed class FleetPropertyTests
{
    // The most image bytes a case holds (the seed and each target keep a copy in memory).
    private const long MaxImageBytes = 12L << 20;

    // A stalled case fails after this; a healthy one takes a few seconds at most.
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(45);

    [Fact]
    public void EveryTargetEndsBitExactWhateverTheImageShapePieceSizeFleetSizeAndSeedMode() =>
        Prop.ForAll(Cases.ToArbitrary(), fleet => Task.Run(() => DeploysBitExactAsync(fleet)).GetAwaiter().GetResult()).CheckSeeded(maxTest: 30);

    [Fact]
    public async Task TwoTargetsOfASuperSeedEndBitExactOnAnImageOfManyCopiesInHalfMebibytePieces() =>
        Assert.True(await DeploysBitExactAsync(new FleetCase(32, 76, 512 * 1024, 18, false, 5, 2, SeedMode.SuperSeed, 485788002)));

    /// <summary>The generated fleets: zero and duplicate shares 0–90 % each, pieces of 16 KiB to 4 MiB, 1–6 targets, each seed mode.</summary>
    internal static Gen<FleetCase> Cases { get; } =
        from zeroPercent in Gen.Choose(0, 90)
        from duplicatePercent in Gen.Choose(0, 90)
        from pieceShift in Gen.Choose(14, 22)
        from pieceFraction in Gen.Choose(1, 100)
        from shortLastPiece in ArbMap.Default.GeneratorFor<bool>()
        from patterns in Gen.Choose(1, 6)
        from targets in Gen.Choose(1, 6)
        from mode in Gen.Elements(Enum.GetValues<SeedMode>())
        from seed in Gen.Choose(1, int.MaxValue)
        let pieceLength = 1 << pieceShift
        let maxPieces = (int)Math.Min(64, MaxImageBytes / pieceLength)
        select new FleetCase(zeroPercent, duplicatePercent, pieceLength, Math.Max(1, maxPieces * pieceFraction / 100), shortLastPiece, patterns, targets, mode, seed);

    [Fact]
    public void TheGeneratedFleetsSpanTheRangesTheyPromise()
    {
        FleetCase[] sample = [.. Cases.Sample(numberOfSamples: 500, seed: new Rnd(7, 11), size: 50)];

        Assert.Contains(sample, c => c.PieceLength == 16 * 1024);
        Assert.Contains(sample, c => c.PieceLength == 4 * 1024 * 1024);
        Assert.All(sample, c => Assert.InRange((long)c.PieceLength * c.Pieces, 1, MaxImageBytes));
        Assert.Equal(Enum.GetValues<SeedMode>().Order(), sample.Select(c => c.Mode).Distinct().Order());
        Assert.Equal(Enumerable.Range(1, 6), sample.Select(c => c.Targets).Distinct().Order());
        Assert.Contains(sample, c => c.ZeroPercent >= 80 && c.DuplicatePercent >= 10);
        Assert.Contains(sample, c => c.ZeroPercent + c.DuplicatePercent < 10);
    }

    private static async Task<bool> DeploysBitExactAsync(FleetCase fleet)
    {
        var (image, manifest) = await SwarmFleet.CreateAsync(fleet.Image);

        var (targets, outcome) = await SwarmFleet.DeployAsync(image, manifest, fleet.Mode, fleet.Targets, Bound, TestContext.Current.CancellationToken);

        Assert.True(targets is not null, $"{fleet}: {outcome}");
        for (int t = 0; t < targets.Length; t++)
        {
            Assert.True(image.AsSpan().SequenceEqual(targets[t].Contents.Span), $"{fleet}: target {t} differs from the image");
        }

        return true;
    }

    /// <summary>One generated fleet.</summary>
    internal sealed record FleetCase(int ZeroPercent, int DuplicatePercent, int PieceLength, int Pieces, bool ShortLastPiece, int Patterns, int Targets, SeedMode Mode, int Seed)
    {
        /// <summary>Gets the image the fleet deploys.</summary>
        public TestImage Image => TestImage.WithPieces(PieceLength, Pieces, ZeroPercent, DuplicatePercent, ShortLastPiece, Seed, Patterns);
    }
}

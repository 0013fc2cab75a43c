using BlockTorrent.Testing;
using FsCheck;
using FsCheck.Fluent;
using Xunit.Sdk;

namespace BlockTorrent.Tests;

public sealed class PropertyCheckTests
{
    [Fact]
    public void TwoChecksInOneRunSeeTheSameCases()
    {
        var first = new List<int>();
        var second = new List<int>();

        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), x => first.Add(x)).CheckSeeded(maxTest: 50);
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), x => second.Add(x)).CheckSeeded(maxTest: 50);

        Assert.Equal(50, first.Count);
        Assert.Equal(first, second);
    }

    [Fact]
    public void AFailingPropertyNamesTheSeedsThatReplayTheRunAndTheFailingCase()
    {
        var failure = Assert.ThrowsAny<XunitException>(() => Prop.ForAll(Gen.Choose(0, 1000).ToArbitrary(), x => x < 900).CheckSeeded());

        Assert.Contains("Falsifiable", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"{PropertyCheck.SeedVariable}={PropertyCheck.Seed} (", failure.Message, StringComparison.Ordinal);
        Assert.Matches($@"{PropertyCheck.SeedVariable}=\d+,\d+,\d+ replays the failing case first", failure.Message);
    }

    [Theory]
    [InlineData("1,3", true, null)]
    [InlineData(" (15902345156114579095,16024713526837729225,39) ", true, 39)]
    [InlineData("1,2", false, null)]
    [InlineData("1", false, null)]
    [InlineData("1,3,4,5", false, null)]
    [InlineData("a,3", false, null)]
    public void ASeedIsReadAsARunOrAFailingCasePrintsIt(string text, bool valid, int? size)
    {
        Assert.Equal(valid, PropertyCheck.TryParseSeed(text, out Replay? replay));
        if (valid)
        {
            Assert.Equal(size, replay!.Size is null ? null : replay.Size.Value);
        }
    }

    [Theory]
    [InlineData(100, null, 100)]
    [InlineData(100, "", 100)]
    [InlineData(100, "5000", 5000)]
    [InlineData(100, "10x", 1000)]
    [InlineData(7, " 3X ", 21)]
    public void APropertyChecksItsOwnNumberOfCasesUnlessTheVariableReplacesOrMultipliesIt(int maxTest, string? setting, int cases) =>
        Assert.Equal(cases, PropertyCheck.Cases(maxTest, setting));

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    [InlineData("x")]
    [InlineData("many")]
    public void ANumberOfCasesThatIsNoneIsRefused(string setting) =>
        Assert.Throws<InvalidOperationException>(() => PropertyCheck.Cases(100, setting));
}

using BlockTorrent.Cli.Parsing;
using BlockTorrent.Testing;
using FsCheck.Fluent;

namespace BlockTorrent.Samples.Tests.Cli;

public sealed class ParsingTests
{
    [Theory]
    [InlineData("4096", 4096L)]
    [InlineData("512MiB", 512L * 1024 * 1024)]
    [InlineData("4M", 4L * 1024 * 1024)]
    [InlineData("4MB", 4_000_000L)]
    [InlineData("16k", 16L * 1024)]
    [InlineData("1.5GiB", 3L * 512 * 1024 * 1024)]
    [InlineData(" 2 G ", 2L * 1024 * 1024 * 1024)]
    public void SizesParseAsDdDoes(string text, long expected)
    {
        Assert.True(ByteSize.TryParse(text, out long bytes, out string? error), error);
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("12XB")]
    [InlineData("-4M")]
    [InlineData("0.3")]
    public void ABadSizeIsRejectedWithAMessageThatShowsExamples(string text)
    {
        Assert.False(ByteSize.TryParse(text, out _, out string? error));
        Assert.Contains($"'{text}'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void AFormattedBinarySizeParsesBackToItself() =>
        Prop.ForAll(Gen.Choose(0, 40).ToArbitrary(), Gen.Choose(0, 5).ToArbitrary(), (mantissa, unit) =>
        {
            long bytes = mantissa * (1L << (10 * unit));
            return ByteSize.TryParse(ByteSize.Format(bytes).Replace(" ", string.Empty, StringComparison.Ordinal), out long parsed, out _) && parsed == bytes;
        }).CheckSeeded();

    [Theory]
    [InlineData("30s", 30.0)]
    [InlineData("10m", 600.0)]
    [InlineData("1h30m", 5400.0)]
    [InlineData("500ms", 0.5)]
    [InlineData("45", 45.0)]
    [InlineData("0", 0.0)]
    public void DurationsParseWithUnits(string text, double seconds)
    {
        Assert.True(Duration.TryParse(text, out TimeSpan duration, out string? error), error);
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Fact]
    public void ForeverIsAnInfiniteDuration()
    {
        Assert.True(Duration.TryParse("forever", out TimeSpan duration, out _));
        Assert.Equal(Timeout.InfiniteTimeSpan, duration);
    }

    [Theory]
    [InlineData("10x")]
    [InlineData("m")]
    [InlineData("ten minutes")]
    public void ABadDurationIsRejected(string text) => Assert.False(Duration.TryParse(text, out _, out _));

    [Theory]
    [InlineData("127.0.0.1:6881", "127.0.0.1:6881")]
    [InlineData("[::1]:7000", "[::1]:7000")]
    [InlineData(":6881", "0.0.0.0:6881")]
    [InlineData("localhost:80", "127.0.0.1:80")]
    public void EndPointsParseInTheUsualForms(string text, string expected)
    {
        Assert.True(EndPoints.TryParse(text, out var endPoint, out string? error), error);
        Assert.Equal(expected, endPoint.ToString());
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:99999")]
    [InlineData("host.example:80")]
    public void ABadEndPointIsRejected(string text) => Assert.False(EndPoints.TryParse(text, out _, out _));
}

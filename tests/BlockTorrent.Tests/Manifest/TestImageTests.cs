using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Manifest;

public sealed class TestImageTests
{
    [Fact]
    public void TheSameSeedGivesTheSameBytesAndAnyRangeMatchesTheWhole()
    {
        var image = new TestImage { Length = (3 * 1024 * 1024) + 17, Seed = 9 };
        byte[] whole = image.ToArray();
        byte[] range = new byte[200_000];

        image.Fill(1_000_003, range);

        Assert.Equal(whole, new TestImage { Length = (3 * 1024 * 1024) + 17, Seed = 9 }.ToArray());
        Assert.Equal(whole.AsSpan(1_000_003, 200_000).ToArray(), range);
        Assert.NotEqual(whole, new TestImage { Length = (3 * 1024 * 1024) + 17, Seed = 10 }.ToArray());
    }

    [Fact]
    public void AnImageHasZeroRunsRepeatedBlocksAndRandomBlocks()
    {
        var image = new TestImage { Length = 64L * 1024 * 1024, Seed = 1 };
        var kinds = Enumerable.Range(0, (int)image.BlockCount).Select(b => image.GetBlockKind(b)).ToList();

        Assert.Contains(TestImage.BlockKind.Zero, kinds);
        Assert.Contains(TestImage.BlockKind.Repeat, kinds);
        Assert.True(kinds.Count(k => k == TestImage.BlockKind.Random) > kinds.Count / 2);
        Assert.Contains(Enumerable.Range(0, kinds.Count - image.ZeroRunBlocks), b => kinds.Skip(b).Take(image.ZeroRunBlocks).All(k => k == TestImage.BlockKind.Zero));
    }

    [Fact]
    public void RandomBlocksDoNotCompress()
    {
        var image = new TestImage { Length = 1024 * 1024, Seed = 4, ZeroRunPercent = 0, ZeroBlockPercent = 0, RepeatBlockPercent = 0 };
        using var output = new MemoryStream();
        using (var deflate = new System.IO.Compression.DeflateStream(output, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        {
            deflate.Write(image.ToArray());
        }

        Assert.True(output.Length > 1024 * 1024 * 0.99);
    }
}

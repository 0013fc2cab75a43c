using BlockTorrent.Testing;
using BlockTorrent.Writing;

namespace BlockTorrent.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void ThePublicApiOfBlockTorrentMatchesItsSnapshot() => PublicApi.AssertMatchesSnapshot(typeof(PieceWriter).Assembly);

    [Fact]
    public void TheDescriptionShowsSignaturesWithNullabilityAndDefaults()
    {
        string description = PublicApi.Describe(typeof(PieceWriter).Assembly);

        Assert.Contains(
            "BlockTorrent.Writing.PieceWriter.CommitAsync(BlockTorrent.Writing.PieceBuffer buffer, object? source = default, System.Threading.CancellationToken cancellationToken = default) -> System.Threading.Tasks.Task<BlockTorrent.Writing.PieceWriteResult>\n",
            description,
            StringComparison.Ordinal);
        Assert.Contains("public sealed class BlockTorrent.Writing.PieceWriter : System.IAsyncDisposable\n", description, StringComparison.Ordinal);
        Assert.DoesNotContain("PieceHasher", description, StringComparison.Ordinal);
    }
}

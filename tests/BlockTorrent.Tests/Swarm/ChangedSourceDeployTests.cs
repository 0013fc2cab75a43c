using BlockTorrent.Devices;
using BlockTorrent.Manifest;

namespace BlockTorrent.Tests.Swarm;

/// <summary>A seed whose image changed after its manifest was made, and the deployments left without a source.</summary>
public sealed class ChangedSourceDeployTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task ASeedNeverServesAPieceItsSourceNoLongerHoldsAndTheDeploymentStopsNamingIt()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(2 * 1024 * 1024, seed: 31);
        int changed = FirstFetchedPiece(manifest);
        byte[] source = ChangePiece(image, manifest, changed);
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task<List<SwarmEvent>> reports = CollectAsync(seeder, SwarmEventKind.SourcePieceInvalid, cts.Token);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(source), null, cts.Token);
        var target = new MemoryBlockDevice(manifest.Length);
        DeployOptions options = SwarmTestImages.From(seeder.LocalEndPoint);
        options.StallTimeout = Stall;

        var failure = await Assert.ThrowsAsync<PiecesUnavailableException>(() => deployer.DeployAsync(manifest, target, options, null, cts.Token));

        Assert.Equal([changed], failure.MissingPieces);
        Assert.Empty(failure.BannedPeers);
        Assert.Contains($"pieces {changed}", failure.Message, StringComparison.Ordinal);
        Assert.True(target.Contents.Span.Slice((int)manifest.GetPieceOffset(changed), manifest.GetPieceSize(changed)).IndexOfAnyExcept((byte)0) < 0, "the changed piece reached the target");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
        Assert.Contains(await reports, e => e.Piece == changed);
    }

    [Fact]
    public async Task ADeploymentThatBannedItsOnlySourceStopsSayingWhyItWasBanned()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(2 * 1024 * 1024, seed: 32);
        int changed = FirstFetchedPiece(manifest);
        byte[] source = ChangePiece(image, manifest, changed);
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(source), new SeedOptions { VerifyOnFirstRead = false }, cts.Token);
        DeployOptions options = SwarmTestImages.From(seeder.LocalEndPoint);
        options.StallTimeout = Stall;

        var failure = await Assert.ThrowsAsync<PiecesUnavailableException>(() => deployer.DeployAsync(manifest, new MemoryBlockDevice(manifest.Length), options, null, cts.Token));

        Assert.Contains(changed, failure.MissingPieces);
        string ban = Assert.Single(failure.BannedPeers);
        Assert.StartsWith($"{seeder.LocalEndPoint}: sent 3 pieces that failed their hash check", ban, StringComparison.Ordinal);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Fact]
    public async Task ADeploymentThatHasMetNoPeerYetWaitsPastTheStallTimeout()
    {
        var (_, manifest) = await SwarmTestImages.CreateAsync(1024 * 1024, seed: 33);
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        var options = new DeployOptions { StallTimeout = TimeSpan.FromSeconds(1) };
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(4));

        // Targets often start before their depot: with nobody to blame, only the caller's limit ends the wait.
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => deployer.DeployAsync(manifest, new MemoryBlockDevice(manifest.Length), options, null, cts.Token));
    }

    [Fact]
    public void TheStallTimeoutDefaultsToAMinuteAndMustBePositiveOrInfinite()
    {
        Assert.Equal(TimeSpan.FromSeconds(60), new DeployOptions().StallTimeout);
        new DeployOptions { StallTimeout = Timeout.InfiniteTimeSpan }.Validate();
        Assert.Throws<ArgumentException>(() => new DeployOptions { StallTimeout = TimeSpan.Zero }.Validate());
    }

    private static int FirstFetchedPiece(TorrentManifest manifest) =>
        Enumerable.Range(0, manifest.PieceCount).First(i => !manifest.IsZeroPiece(i) && manifest.GetCanonicalPiece(i) == i);

    /// <summary>A copy of the image with one piece's first bytes changed, as an in-place update leaves it.</summary>
    private static byte[] ChangePiece(byte[] image, TorrentManifest manifest, int piece)
    {
        byte[] copy = (byte[])image.Clone();
        long offset = manifest.GetPieceOffset(piece);
        for (int i = 0; i < 4096; i++)
        {
            copy[offset + i] ^= 0x5A;
        }

        return copy;
    }

    private static async Task<List<SwarmEvent>> CollectAsync(BlockTorrentClient client, SwarmEventKind kind, CancellationToken cancellationToken)
    {
        var events = new List<SwarmEvent>();
        try
        {
            await foreach (SwarmEvent e in client.WatchEventsAsync(cancellationToken))
            {
                if (e.Kind == kind)
                {
                    events.Add(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The test is over.
        }

        return events;
    }
}

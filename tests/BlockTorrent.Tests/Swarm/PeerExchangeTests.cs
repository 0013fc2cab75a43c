using BlockTorrent.Devices;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Swarm;

/// <summary>BEP 11 peer exchange between BlockTorrent clients.</summary>
public sealed class PeerExchangeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AClientThatKnowsOnlyOnePeerConnectsToTheSeedThatPeerTellsItAbout()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(2 * 1024 * 1024, seed: 51);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using var a = new BlockTorrentClient(FastPex());
        await using var b = new BlockTorrentClient(FastPex());
        await using var c = new BlockTorrentClient(FastPex());
        var seenByC = new List<SwarmEvent>();

        // The first MoveNextAsync registers the watcher, so no event of C's deployment is missed.
        IAsyncEnumerator<SwarmEvent> events = c.WatchEventsAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        ValueTask<bool> first = events.MoveNextAsync();
        Task watching = Task.Run(
            async () =>
            {
                for (bool more = await first; more; more = await events.MoveNextAsync())
                {
                    lock (seenByC)
                    {
                        seenByC.Add(events.Current);
                    }
                }
            },
            cts.Token);
        Task seeding = a.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        DeployOptions fromA = SwarmTestImages.From(a.LocalEndPoint);
        fromA.SeedAfter = TimeSpan.FromMinutes(10);
        Task<DeploymentResult> bDeploying = b.DeployAsync(manifest, new MemoryBlockDevice(manifest.Length), fromA, null, cts.Token);
        DeployOptions fromB = SwarmTestImages.From(b.LocalEndPoint);
        fromB.SeedAfter = TimeSpan.FromMinutes(10);
        var cTarget = new MemoryBlockDevice(manifest.Length);

        Task<DeploymentResult> cDeploying = c.DeployAsync(manifest, cTarget, fromB, null, cts.Token);

        // C was told only of B: a second peer connected to C can only be A, found through B's ut_pex messages.
        await Eventually.TrueAsync(() => Count(seenByC, SwarmEventKind.PeerConnected) >= 2 && Count(seenByC, SwarmEventKind.Completed) == 1, Bound, "C connected to A and complete", cts.Token);
        Assert.Equal(image, cTarget.Contents.ToArray());
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Task.WhenAll(seeding, bDeploying, cDeploying, watching));
        await events.DisposeAsync();
    }

    private static int Count(List<SwarmEvent> events, SwarmEventKind kind)
    {
        lock (events)
        {
            return events.Count(e => e.Kind == kind);
        }
    }

    private static BlockTorrentClientOptions FastPex()
    {
        BlockTorrentClientOptions options = SwarmTestImages.Loopback();
        options.PeerExchangeInterval = TimeSpan.FromSeconds(1);
        return options;
    }
}

using BlockTorrent.Devices;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Swarm;

public sealed class ReimageDeployTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task AReimagedTargetFetchesAndServesPiecesWhileItsCheckIsStillRunning()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(4 * 1024 * 1024, seed: 18);
        int[] changed = [.. Enumerable.Range(1, manifest.PieceCount - 1).Where(p => !manifest.IsZeroPiece(p) && manifest.GetCanonicalPiece(p) == p).Take(3)];
        byte[] old = (byte[])image.Clone();
        foreach (int piece in changed)
        {
            old[(piece * SwarmTestImages.PieceLength) + 7] ^= 0x5A;
        }

        // The check cannot read the last region until the re-imaged target has fetched a piece, served one to the
        // fresh target behind it and reported its check under way: a deployment that checked before it joined the
        // swarm would never get there.
        int last = manifest.PieceCount - 1;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var target = new GatedReadDevice(new MemoryBlockDevice(old), manifest.GetPieceOffset(last), gate.Task);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var reimaged = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var fresh = new BlockTorrentClient(SwarmTestImages.Loopback());
        var events = new List<(string Who, SwarmEvent Event)>();
        var progress = new List<DeploymentProgress>();
        Task watchReimaged = RecordAsync("reimaged", reimaged, events, progress, gate, cts.Token);
        Task watchFresh = RecordAsync("fresh", fresh, events, progress, gate, cts.Token);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        var reimageOptions = SwarmTestImages.From(seeder.LocalEndPoint);
        reimageOptions.CheckExistingData = true;
        reimageOptions.SeedAfter = TimeSpan.FromMinutes(5);
        var reporter = new SynchronousProgress<DeploymentProgress>(p =>
        {
            lock (events)
            {
                progress.Add(p);
                OpenWhenUnderWay(events, progress, gate);
            }
        });
        Task<DeploymentResult> reimaging = reimaged.DeployAsync(manifest, target, reimageOptions, reporter, cts.Token);
        var freshTarget = new MemoryBlockDevice(manifest.Length);

        await fresh.DeployAsync(manifest, freshTarget, SwarmTestImages.From(reimaged.LocalEndPoint), null, cts.Token);

        Assert.Equal(image, freshTarget.Contents.ToArray());
        Assert.Equal(image, target.Contents.ToArray());

        // The fresh target may finish before the re-imaged one has published the end of its check.
        await Eventually.TrueAsync(
            () =>
            {
                lock (events)
                {
                    return events.Exists(e => e.Who == "reimaged" && e.Event.Kind == SwarmEventKind.Completed);
                }
            },
            Bound,
            "the re-imaged target completes",
            cts.Token);
        (string Who, SwarmEvent Event)[] order;
        lock (events)
        {
            order = [.. events];
        }

        int checkDone = Array.FindIndex(order, e => e.Who == "reimaged" && e.Event.Kind == SwarmEventKind.CheckCompleted);
        int firstFetched = Array.FindIndex(order, e => e.Who == "reimaged" && e.Event.Kind == SwarmEventKind.PieceVerified && changed.Contains(e.Event.Piece));
        int firstServed = Array.FindIndex(order, e => e.Who == "fresh" && e.Event.Kind == SwarmEventKind.PieceVerified);
        Assert.True(checkDone >= 0, "the re-imaged target's check never completed");
        Assert.InRange(firstFetched, 0, checkDone - 1);
        Assert.InRange(firstServed, 0, checkDone - 1);
        Assert.Equal(manifest.PieceCount - changed.Length, order.Count(e => e.Who == "reimaged" && e.Event.Kind == SwarmEventKind.PieceFoundOnDevice));
        lock (events)
        {
            Assert.Contains(progress, p => p.IsChecking && p.PiecesChecked < manifest.PieceCount);
            Assert.Equal(manifest.PieceCount, progress[^1].PiecesChecked);
        }

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reimaging);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
        await Task.WhenAll(watchReimaged, watchFresh).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    /// <summary>Records a client's events in one shared order (the lock of <paramref name="events"/> guards both lists).</summary>
    private static async Task RecordAsync(string who, BlockTorrentClient client, List<(string Who, SwarmEvent Event)> events, List<DeploymentProgress> progress, TaskCompletionSource gate, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (SwarmEvent e in client.WatchEventsAsync(cancellationToken))
            {
                lock (events)
                {
                    events.Add((who, e));
                    OpenWhenUnderWay(events, progress, gate);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The test is over.
        }
    }

    /// <summary>Opens the gate once the re-imaged target fetched a piece, the fresh one got one, and the check reported progress.</summary>
    private static void OpenWhenUnderWay(List<(string Who, SwarmEvent Event)> events, List<DeploymentProgress> progress, TaskCompletionSource gate)
    {
        if (events.Exists(x => x.Who == "reimaged" && x.Event.Kind == SwarmEventKind.PieceVerified)
            && events.Exists(x => x.Who == "fresh" && x.Event.Kind == SwarmEventKind.PieceVerified)
            && progress.Exists(p => p.IsChecking && p.PiecesChecked > 0))
        {
            gate.TrySetResult();
        }
    }

    /// <summary>Holds every read at or beyond an offset until a gate opens.</summary>
    private sealed class GatedReadDevice(MemoryBlockDevice inner, long from, Task gate) : PassThroughDevice(inner)
    {
        public ReadOnlyMemory<byte> Contents => inner.Contents;

        public override async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (offset + buffer.Length > from)
            {
                await gate.WaitAsync(cancellationToken);
            }

            return await base.ReadAsync(offset, buffer, cancellationToken);
        }
    }

    /// <summary>Reports on the caller's thread, so no report is lost when the deployment ends.</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

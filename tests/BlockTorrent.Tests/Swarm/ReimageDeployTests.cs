using BlockTorrent.Devices;
using BlockTorrent.Manifest;
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

    [Fact]
    public async Task AReimageOnASlowDiskEndsBitExactHavingEitherCopiedOrFetchedEachMovedPieceNeverBoth()
    {
        // 128 distinct random pieces. Last month's disk held junk where pieces 0, 110, 120 and 127 now are, and the
        // bytes of pieces 20, 25, 30 and 35 in regions 100..103, which now hold new pieces: the check finds 20, 25,
        // 30 and 35 missing long before it reads where their bytes sit. Every read of the disk is slow. Whether a
        // moved piece is fetched or waits for its bytes depends on how fast the link is measured against the disk
        // (decided on a manual clock in BackgroundCheckTests); whichever it is, each piece comes once.
        const int Pieces = 128;
        int[] changed = [0, 100, 101, 102, 103, 110, 120, 127];
        (int Piece, int From)[] moved = [(20, 100), (25, 101), (30, 102), (35, 103)];
        var random = new Random(185);
        byte[] image = new byte[Pieces * SwarmTestImages.PieceLength];
        random.NextBytes(image);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), new ManifestBuilderOptions { PieceLength = SwarmTestImages.PieceLength, Name = "reimage18.raw" }, TestContext.Current.CancellationToken);
        byte[] old = (byte[])image.Clone();
        foreach (int piece in changed.Concat(moved.Select(m => m.Piece)))
        {
            random.NextBytes(old.AsSpan(piece * SwarmTestImages.PieceLength, SwarmTestImages.PieceLength));
        }

        foreach ((int piece, int from) in moved)
        {
            image.AsSpan(piece * SwarmTestImages.PieceLength, SwarmTestImages.PieceLength).CopyTo(old.AsSpan(from * SwarmTestImages.PieceLength));
        }

        using var dir = new TempDirectory();
        await File.WriteAllBytesAsync(dir.File("target.img"), old, TestContext.Current.CancellationToken);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var reimaged = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        var options = SwarmTestImages.From(seeder.LocalEndPoint);
        options.CheckExistingData = true;
        DeploymentResult result;
        await using (var target = new SlowReadDevice(FileBlockDevice.Open(dir.File("target.img")), TimeSpan.FromMilliseconds(25)))
        {
            result = await reimaged.DeployAsync(manifest, target, options, null, cts.Token);
        }

        Assert.Equal(image, await File.ReadAllBytesAsync(dir.File("target.img"), TestContext.Current.CancellationToken));
        Assert.InRange(result.PiecesDownloaded, changed.Length, changed.Length + moved.Length);
        Assert.Equal(changed.Length + moved.Length, result.PiecesDownloaded + result.PiecesCopiedLocally);
        Assert.Equal((long)result.PiecesDownloaded * SwarmTestImages.PieceLength, result.BytesDownloaded);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
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

    /// <summary>A disk slower than the link: every read takes at least the given time.</summary>
    private sealed class SlowReadDevice(IBlockDevice inner, TimeSpan delay) : PassThroughDevice(inner)
    {
        public override async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(delay, cancellationToken);
            return await base.ReadAsync(offset, buffer, cancellationToken);
        }
    }

    /// <summary>Reports on the caller's thread, so no report is lost when the deployment ends.</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}

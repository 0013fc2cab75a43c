using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Swarm;

/// <summary>How a fleet test seeds its image and how its targets find it.</summary>
public enum SeedMode
{
    /// <summary>A plain seed (whole bitfield), every client unchoking every peer.</summary>
    Plain,

    /// <summary>A super-seed (BEP 16 offers).</summary>
    SuperSeed,

    /// <summary>A plain seed, every client choking tit-for-tat with two upload slots.</summary>
    TitForTat,

    /// <summary>A plain seed; the targets start from a magnet link naming the seed and the targets before them.</summary>
    Magnet,
}

/// <summary>One seed and several targets on loopback, with in-memory devices, deploying one image.</summary>
internal static class SwarmFleet
{
    /// <summary>Builds a manifest of a test image with its own piece length.</summary>
    public static async Task<(byte[] Image, TorrentManifest Manifest)> CreateAsync(TestImage shape, TorrentVersions versions = TorrentVersions.Hybrid)
    {
        byte[] image = shape.ToArray();
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(
            new MemoryBlockDevice((byte[])image.Clone()),
            new ManifestBuilderOptions { PieceLength = shape.BlockSize, Name = "image.raw", Versions = versions });
        return (image, manifest);
    }

    /// <summary>
    /// Seeds <paramref name="image"/> in <paramref name="mode"/> to <paramref name="targets"/> targets, each told of the
    /// seed and the targets started before it and seeding what it has until all are done, and waits until every target
    /// holds every piece.
    /// </summary>
    /// <returns>The targets' devices, or <see langword="null"/> with what each target had when <paramref name="bound"/> ran out.</returns>
    public static async Task<(MemoryBlockDevice[]? Targets, string Outcome)> DeployAsync(byte[] image, TorrentManifest manifest, SeedMode mode, int targets, TimeSpan bound, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await using var seeder = new BlockTorrentClient(Options(mode));
        var clients = new List<BlockTorrentClient>();
        var deploys = new List<Task>();
        var devices = new MemoryBlockDevice[targets];
        var onDevice = new int[targets];
        var done = new TaskCompletionSource[targets];
        try
        {
            Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), new SeedOptions { SuperSeeding = mode == SeedMode.SuperSeed ? SuperSeedMode.Always : SuperSeedMode.Never }, cts.Token);
            deploys.Add(seeding);
            for (int t = 0; t < targets; t++)
            {
                var client = new BlockTorrentClient(Options(mode));
                clients.Add(client);
                devices[t] = new MemoryBlockDevice(manifest.Length);
                done[t] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                var known = new[] { seeder.LocalEndPoint }.Concat(clients.SkipLast(1).Select(c => c.LocalEndPoint)).ToArray();
                var progress = new Watch(t, onDevice, done[t]);
                var options = new DeployOptions { SeedAfter = TimeSpan.FromHours(1) };
                deploys.Add(mode == SeedMode.Magnet
                    ? client.DeployAsync(new MagnetLink(manifest.InfoHashV1, manifest.InfoHashV2, manifest.Name, peers: known), devices[t], options, progress, cts.Token)
                    : client.DeployAsync(manifest, devices[t], WithPeers(options, known), progress, cts.Token));
            }

            Task all = Task.WhenAll(done.Select(d => d.Task));
            Task first = await Task.WhenAny(all, Task.Delay(bound, cancellationToken), Task.WhenAny(deploys));
            if (first != all)
            {
                // A deployment or the seed that ended early failed: its error is the outcome.
                Task? failed = deploys.Find(d => d.IsCompleted);
                string reason = failed?.Exception?.GetBaseException().Message ?? $"not done within {bound.TotalSeconds:F0} s";
                return (null, $"{reason}; pieces on each target: {string.Join(", ", onDevice.Select(n => $"{n}/{manifest.PieceCount}"))}");
            }

            return (devices, "done");
        }
        finally
        {
            await cts.CancelAsync();
            foreach (Task deploy in deploys)
            {
                try
                {
                    await deploy;
                }
                catch (OperationCanceledException)
                {
                }
            }

            foreach (BlockTorrentClient client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    private static BlockTorrentClientOptions Options(SeedMode mode)
    {
        BlockTorrentClientOptions options = SwarmTestImages.Loopback();
        if (mode == SeedMode.TitForTat)
        {
            options.ChokingMode = ChokingMode.TitForTat;
            options.MaxUploads = 2;
        }

        return options;
    }

    private static DeployOptions WithPeers(DeployOptions options, IEnumerable<System.Net.IPEndPoint> peers)
    {
        foreach (System.Net.IPEndPoint peer in peers)
        {
            options.Peers.Add(peer);
        }

        return options;
    }

    // Reports on the reporting thread, at once: records the target's pieces and signals when it holds them all.
    private sealed class Watch(int target, int[] onDevice, TaskCompletionSource done) : IProgress<DeploymentProgress>
    {
        public void Report(DeploymentProgress value)
        {
            Volatile.Write(ref onDevice[target], value.PiecesOnDevice);
            if (value.PiecesOnDevice == value.PieceCount)
            {
                done.TrySetResult();
            }
        }
    }
}

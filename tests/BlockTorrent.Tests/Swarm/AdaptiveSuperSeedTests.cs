using System.Diagnostics;
using System.Net;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// The seed's default, <see cref="SuperSeedMode.Adaptive"/>: super-seeding where the targets pass pieces on, a plain
/// seed's speed where they do not. Real clients on loopback with in-memory devices.
/// </summary>
public sealed class AdaptiveSuperSeedTests(ITestOutputHelper output)
{
    private const int PieceLength = 256 * 1024;

    [Fact]
    public async Task ALoneTargetOfTheDefaultSeedCompletesAboutAsFastAsFromAPlainSeed()
    {
        (byte[] image, TorrentManifest manifest) = await CreateAsync(48L * 1024 * 1024, isPrivate: false);
        CancellationToken token = TestContext.Current.CancellationToken;

        // Alternating, so a machine busy with other work weighs on both alike; the best of each is compared.
        var plain = new List<TimeSpan>();
        var adaptive = new List<TimeSpan>();
        for (int round = 0; round < 2; round++)
        {
            plain.Add(await LoneTargetAsync(image, manifest, SuperSeedMode.Never, token));
            adaptive.Add(await LoneTargetAsync(image, manifest, SuperSeedMode.Adaptive, token));
        }

        output.WriteLine($"plain {string.Join(", ", plain.Select(t => t.TotalSeconds.ToString("F2")))} s; adaptive {string.Join(", ", adaptive.Select(t => t.TotalSeconds.ToString("F2")))} s");

        // A stall would be the forward wait (3 s) or more; pacing by offers alone, a fraction of the plain time again.
        Assert.True(adaptive.Min() <= 1.5 * plain.Min() + TimeSpan.FromSeconds(1), $"adaptive {adaptive.Min().TotalSeconds:F2} s against plain {plain.Min().TotalSeconds:F2} s");
    }

    [Fact]
    public async Task TargetsThatCannotReachOneAnotherCompleteFromTheDefaultSeedWithoutWaitingOnOffers()
    {
        // A private torrent (no peer exchange), each target told of the seed alone: none passes a piece on. Offers
        // alone would hold each one to a few pieces per forward wait (3 MiB per 3 s here, about 25 s for this image).
        (byte[] image, TorrentManifest manifest) = await CreateAsync(24L * 1024 * 1024, isPrivate: true);
        CancellationToken token = TestContext.Current.CancellationToken;
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), new SeedOptions(), stop.Token);
        var clients = new List<BlockTorrentClient>();
        try
        {
            var devices = new List<MemoryBlockDevice>();
            var deploys = new List<Task<DeploymentResult>>();
            for (int t = 0; t < 3; t++)
            {
                var client = new BlockTorrentClient(SwarmTestImages.Loopback());
                clients.Add(client);
                var device = new MemoryBlockDevice(manifest.Length);
                devices.Add(device);
                deploys.Add(client.DeployAsync(manifest, device, SwarmTestImages.From(seeder.LocalEndPoint), cancellationToken: stop.Token));
            }

            Task all = Task.WhenAll(deploys);
            Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(15), token)));
            foreach (Task<DeploymentResult> deploy in deploys)
            {
                DeploymentResult result = await deploy;
                output.WriteLine($"target done in {result.Duration.TotalSeconds:F2} s");
                Assert.Equal(0, result.BytesUploaded);
            }

            foreach (MemoryBlockDevice device in devices)
            {
                Assert.True(device.Contents.Span.SequenceEqual(image));
            }
        }
        finally
        {
            await StopAsync(stop, seeding, clients);
        }
    }

    [Fact]
    public async Task InASwarmWhoseTargetsShareTheDefaultSeedSendsEachPieceAboutOnce()
    {
        (byte[] image, TorrentManifest manifest) = await CreateAsync(16L * 1024 * 1024, isPrivate: false);
        CancellationToken token = TestContext.Current.CancellationToken;
        var uploaded = new LatestUpload();
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), new SeedOptions { Progress = uploaded }, stop.Token);
        var clients = new List<BlockTorrentClient>();
        try
        {
            var done = new List<TaskCompletionSource>();
            var devices = new List<MemoryBlockDevice>();
            var known = new List<IPEndPoint> { seeder.LocalEndPoint };
            for (int t = 0; t < 4; t++)
            {
                var client = new BlockTorrentClient(SwarmTestImages.Loopback());
                clients.Add(client);
                var device = new MemoryBlockDevice(manifest.Length);
                devices.Add(device);
                var complete = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                done.Add(complete);
                DeployOptions options = SwarmTestImages.From([.. known]);
                options.SeedAfter = TimeSpan.FromHours(1);
                _ = client.DeployAsync(manifest, device, options, new Progress(complete), stop.Token);
                known.Add(client.LocalEndPoint);
            }

            Task all = Task.WhenAll(done.Select(d => d.Task));
            Assert.Same(all, await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(60), token)));

            // The seed's count, as reported after every target is done (reports come about four times a second).
            long sent = await uploaded.NextAsync(TimeSpan.FromSeconds(5), token);
            double times = (double)sent / manifest.Length;
            output.WriteLine($"the seed sent {times:F2} x the image to 4 targets");
            Assert.True(times < 1.5, $"the seed sent {times:F2} x the image");
            foreach (MemoryBlockDevice device in devices)
            {
                Assert.True(device.Contents.Span.SequenceEqual(image));
            }
        }
        finally
        {
            await StopAsync(stop, seeding, clients);
        }
    }

    private static async Task<(byte[] Image, TorrentManifest Manifest)> CreateAsync(long length, bool isPrivate)
    {
        byte[] image = new byte[length];
        new Random(17).NextBytes(image);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(
            new MemoryBlockDevice((byte[])image.Clone()),
            new ManifestBuilderOptions { PieceLength = PieceLength, Name = "image.raw", IsPrivate = isPrivate });
        return (image, manifest);
    }

    private static async Task<TimeSpan> LoneTargetAsync(byte[] image, TorrentManifest manifest, SuperSeedMode mode, CancellationToken token)
    {
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var target = new BlockTorrentClient(SwarmTestImages.Loopback());
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(token);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), new SeedOptions { SuperSeeding = mode }, stop.Token);
        try
        {
            var device = new MemoryBlockDevice(manifest.Length);
            var clock = Stopwatch.StartNew();
            Task<DeploymentResult> deploy = target.DeployAsync(manifest, device, SwarmTestImages.From(seeder.LocalEndPoint), cancellationToken: stop.Token);
            Assert.Same(deploy, await Task.WhenAny(deploy, Task.Delay(TimeSpan.FromSeconds(60), token)));
            await deploy;
            TimeSpan elapsed = clock.Elapsed;
            Assert.True(device.Contents.Span.SequenceEqual(image));
            return elapsed;
        }
        finally
        {
            await stop.CancelAsync();
            await IgnoreCancellation(seeding);
        }
    }

    // Stops the seed and disposes of the targets' clients.
    private static async Task StopAsync(CancellationTokenSource stop, Task seeding, List<BlockTorrentClient> clients)
    {
        await stop.CancelAsync();
        await IgnoreCancellation(seeding);
        foreach (BlockTorrentClient client in clients)
        {
            await client.DisposeAsync();
        }
    }

    private static async Task IgnoreCancellation(Task task)
    {
        try
        {
            await task;
        }
        catch (OperationCanceledException)
        {
        }
    }

    // Signals when the target holds every piece.
    private sealed class Progress(TaskCompletionSource done) : IProgress<DeploymentProgress>
    {
        public void Report(DeploymentProgress value)
        {
            if (value.PiecesOnDevice == value.PieceCount)
            {
                done.TrySetResult();
            }
        }
    }

    // The seed's upload count, and a way to wait for the next report.
    private sealed class LatestUpload : IProgress<SeedProgress>
    {
        private TaskCompletionSource<long> _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Report(SeedProgress value)
        {
            Interlocked.Exchange(ref _next, new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(value.BytesUploaded);
        }

        public Task<long> NextAsync(TimeSpan bound, CancellationToken token) => Volatile.Read(ref _next).Task.WaitAsync(bound, token);
    }
}

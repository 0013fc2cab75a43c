using System.Diagnostics;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Swarm;
using BlockTorrent.Swarm.Bandwidth;
using BlockTorrent.Testing;
using BlockTorrent.Wire;
using Microsoft.Extensions.Time.Testing;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// The caps measured on real connections over loopback (a user-space limiter gains nothing from a namespace's link):
/// the rate the target sees over ten seconds of the clients' clock, after the first second, is the cap to within 5 %.
/// </summary>
public sealed class BandwidthCapTests
{
    private const long Cap = 2 * 1024 * 1024;

    // Half the bucket's tenth of a second at the cap, so a step never brings more than the bucket holds.
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(10);

    // A sender or asker holds at most a block it took but has not sent, and the bucket may hold a block untaken.
    private static readonly long Slack = 8 * PiecePicker.BlockSize;

    public enum Capped
    {
        /// <summary>The seeding client's <see cref="BlockTorrentClientOptions.MaxUploadRate"/>.</summary>
        ClientUpload,

        /// <summary>The seed's own <see cref="SeedOptions.MaxUploadRate"/> (a depot's cap per image).</summary>
        ImageUpload,

        /// <summary>The deploying client's <see cref="BlockTorrentClientOptions.MaxDownloadRate"/>.</summary>
        ClientDownload,
    }

    [Theory]
    [InlineData(Capped.ClientUpload)]
    [InlineData(Capped.ImageUpload)]
    [InlineData(Capped.ClientDownload)]
    public async Task ACapHoldsTheRateWithinFivePercentOverTenSeconds(Capped capped)
    {
        // Enough for the window, the first second and a margin at the cap; no zero or duplicate pieces. Pieces of one
        // block, so the bytes written to the target follow the bytes that crossed the connection block by block.
        byte[] image = new byte[14 * Cap];
        new Random(18).NextBytes(image);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), new ManifestBuilderOptions { PieceLength = PiecePicker.BlockSize, Name = "capped.raw" }, TestContext.Current.CancellationToken);

        BlockTorrentClientOptions seederOptions = SwarmTestImages.Loopback();
        BlockTorrentClientOptions deployerOptions = SwarmTestImages.Loopback();
        var seedOptions = new SeedOptions();
        switch (capped)
        {
            case Capped.ClientUpload:
                seederOptions.MaxUploadRate = Cap;
                break;
            case Capped.ImageUpload:
                seedOptions.MaxUploadRate = Cap;
                break;
            default:
                deployerOptions.MaxDownloadRate = Cap;
                break;
        }

        // Both clients run on a clock the test moves (a loaded machine wakes a waiting sender late, and the bucket
        // holds only a tenth of a second: real time would measure the scheduler, not the cap). Within the window the
        // clock moves once the bytes the cap allowed so far have arrived, so the rate is the cap's alone; or, when
        // they have not after a few seconds of real time, anyway: the target's writer may hold the last pieces until
        // its clock moves, and a clock that waited for them would never move again.
        var time = new FakeTimeProvider();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromMinutes(5));
        await using var seeder = new BlockTorrentClient(seederOptions, null, time);
        await using var deployer = new BlockTorrentClient(deployerOptions, null, time);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), seedOptions, cts.Token);
        var target = new CountingDevice(new MemoryBlockDevice(manifest.Length));
        Task<DeploymentResult> deploy = deployer.DeployAsync(manifest, target, SwarmTestImages.From(seeder.LocalEndPoint), null, cts.Token);

        // Up to the first byte, then through the first second: the connection starts and the request queue grows.
        while (target.Written == 0)
        {
            await StepAsync(time, target, deploy, cts.Token);
        }

        DateTimeOffset firstByte = time.GetUtcNow();
        while (time.GetUtcNow() - firstByte < TimeSpan.FromSeconds(1))
        {
            await StepAsync(time, target, deploy, cts.Token);
        }

        DateTimeOffset start = time.GetUtcNow();
        long startBytes = target.Written;
        int stalls = 0;
        while (time.GetUtcNow() - start < Window)
        {
            time.Advance(Step);
            double allowed = Cap * (time.GetUtcNow() - start).TotalSeconds;
            long due = startBytes + (long)allowed - Slack;
            stalls += await target.WaitForAsync(due, TimeSpan.FromSeconds(3), cts.Token) ? 0 : 1;
        }

        double rate = (target.Written - startBytes) / Window.TotalSeconds;
        while (!deploy.IsCompleted)
        {
            await StepAsync(time, target, deploy, cts.Token);
        }

        DeploymentResult result = await deploy;
        Assert.Equal(image, target.Contents.ToArray());
        Assert.True(rate >= Cap * 0.95 && rate <= Cap * 1.05, $"{rate:F0} B/s against a cap of {Cap} B/s ({stalls} of {Window / Step} steps moved the clock before the cap's bytes arrived)");
        Assert.True(result.Duration >= TimeSpan.FromSeconds(12), $"the whole image came in {result.Duration}");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task BytesWaitedForOnAnUploadLimiterAndTheSeedGivenItShareOneCap(bool clientCap)
    {
        const int Rate = 1024 * 1024;
        byte[] image = new byte[2 * Rate];
        new Random(19).NextBytes(image);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), new ManifestBuilderOptions { PieceLength = 256 * 1024, Name = "shared.raw" }, TestContext.Current.CancellationToken);
        BlockTorrentClientOptions seederOptions = SwarmTestImages.Loopback();
        seederOptions.MaxUploadRate = clientCap ? Rate : 0;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromMinutes(2));
        await using var seeder = new BlockTorrentClient(seederOptions);
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        UploadLimiter limiter = seeder.CreateUploadLimiter(clientCap ? 0 : Rate);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), new SeedOptions { UploadLimiter = limiter }, cts.Token);

        // A web seed's worth of bytes through the limiter while a peer downloads the image from the seed: together
        // twice the image, so at the cap they take nearly four seconds; each alone would take two.
        long started = Stopwatch.GetTimestamp();
        Task besides = Task.Run(
            async () =>
            {
                for (int sent = 0; sent < image.Length; sent += 64 * 1024)
                {
                    await limiter.WaitAsync(64 * 1024, cts.Token);
                }
            },
            cts.Token);
        var target = new MemoryBlockDevice(manifest.Length);
        await deployer.DeployAsync(manifest, target, SwarmTestImages.From(seeder.LocalEndPoint), null, cts.Token);
        await besides;
        TimeSpan took = Stopwatch.GetElapsedTime(started);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.True(limiter.IsLimited);
        Assert.True(took >= TimeSpan.FromSeconds(3.5), $"twice the image went out in {took} under a cap of {Rate} bytes/s");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Fact]
    public async Task ASeedRefusesAnUploadLimiterFromAnotherClientOrBesideItsOwnRate()
    {
        byte[] image = new byte[64 * 1024];
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), new ManifestBuilderOptions { PieceLength = 16 * 1024, Name = "refused.raw" }, TestContext.Current.CancellationToken);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var other = new BlockTorrentClient(SwarmTestImages.Loopback());

        ArgumentException foreign = await Assert.ThrowsAsync<ArgumentException>(() => seeder.SeedAsync(manifest, new MemoryBlockDevice(image), new SeedOptions { UploadLimiter = other.CreateUploadLimiter(1000) }, TestContext.Current.CancellationToken));
        ArgumentException both = await Assert.ThrowsAsync<ArgumentException>(() => seeder.SeedAsync(manifest, new MemoryBlockDevice(image), new SeedOptions { UploadLimiter = seeder.CreateUploadLimiter(1000), MaxUploadRate = 1000 }, TestContext.Current.CancellationToken));

        Assert.Contains("another client", foreign.Message, StringComparison.Ordinal);
        Assert.Contains("both set", both.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RequestsThePeerRejectedGiveTheirBytesBackToTheDownloadCap()
    {
        // The client's clock never moves, so its download cap never refills: it may ask for the bucket's capacity
        // once, and asks again only with the bytes of requests the peer rejected, given back.
        var (_, manifest) = await SwarmTestImages.CreateAsync(4 * 1024 * 1024, seed: 183);
        await using var peer = new HostilePeer(manifest, async (connection, ct) =>
        {
            await connection.HaveAllAndUnchokeAsync(ct);
            await connection.ServeAsync(block => connection.SendAsync(w => MessageWriter.WriteBlock(w, MessageId.RejectRequest, block), ct), ct);
        });

        await AssertRequestsKeepComingUnderACapThatNeverRefillsAsync(manifest, peer);
    }

    [Fact]
    public async Task RequestsLostToAChokeGiveTheirBytesBackToTheDownloadCap()
    {
        // As above, but the peer answers every request by choking and unchoking: the requests it discards never
        // bring their bytes, so the client asks again only with those bytes given back.
        var (_, manifest) = await SwarmTestImages.CreateAsync(4 * 1024 * 1024, seed: 184);
        await using var peer = new HostilePeer(manifest, async (connection, ct) =>
        {
            await connection.HaveAllAndUnchokeAsync(ct);
            await connection.ServeAsync(
                _ => connection.SendAsync(
                    w =>
                    {
                        MessageWriter.WriteSimple(w, MessageId.Choke);
                        MessageWriter.WriteSimple(w, MessageId.Unchoke);
                    },
                    ct),
                ct);
        });

        await AssertRequestsKeepComingUnderACapThatNeverRefillsAsync(manifest, peer);
    }

    /// <summary>
    /// Deploys from <paramref name="peer"/> under a download cap on a clock that never moves, so the cap never refills,
    /// and asserts that the peer still gets ten times the requests the cap affords: only refunds can pay for them.
    /// </summary>
    private static async Task AssertRequestsKeepComingUnderACapThatNeverRefillsAsync(TorrentManifest manifest, HostilePeer peer)
    {
        BlockTorrentClientOptions options = SwarmTestImages.Loopback();
        options.MaxDownloadRate = 64 * 1024;
        await using var client = new BlockTorrentClient(options, null, new FakeTimeProvider());
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        Task deploying = client.DeployAsync(manifest, new MemoryBlockDevice(manifest.Length), SwarmTestImages.From(peer.EndPoint), null, cts.Token);
        int affordable = (int)(TokenBucket.MinimumCapacity / PiecePicker.BlockSize);

        await Eventually.TrueAsync(() => peer.RequestsReceived >= 10 * affordable, TimeSpan.FromSeconds(60), () => $"the peer got {peer.RequestsReceived} requests; the cap affords {affordable} without refunds", cts.Token);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => deploying);
    }

    /// <summary>Moves the clock a step, then gives the clients until their next write (or as long again in real time) to act on it.</summary>
    private static async Task StepAsync(FakeTimeProvider time, CountingDevice target, Task deploy, CancellationToken cancellationToken)
    {
        Task written = target.NextWriteAsync();
        time.Advance(Step);
        await Task.WhenAny(written, deploy, Task.Delay(Step, cancellationToken));
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>A memory device that counts the bytes written to it and tells waiters of each write.</summary>
    private sealed class CountingDevice(MemoryBlockDevice inner) : PassThroughDevice(inner)
    {
        private readonly Lock _sync = new();
        private long _written;
        private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Written => Interlocked.Read(ref _written);

        public ReadOnlyMemory<byte> Contents => inner.Contents;

        /// <summary>A task that completes at the next write.</summary>
        public Task NextWriteAsync()
        {
            lock (_sync)
            {
                return _next.Task;
            }
        }

        public override async ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            await Inner.WriteAsync(offset, data, cancellationToken);
            Count(data.Length);
        }

        public override async ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
        {
            await Inner.WriteGatherAsync(offset, buffers, cancellationToken);
            Count(buffers.Sum(b => (long)b.Length));
        }

        /// <summary>Waits until at least <paramref name="bytes"/> were written, or <paramref name="bound"/> has passed.</summary>
        /// <returns>Whether they were.</returns>
        public async Task<bool> WaitForAsync(long bytes, TimeSpan bound, CancellationToken cancellationToken)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(bound);
            while (true)
            {
                Task next = NextWriteAsync();
                if (Written >= bytes)
                {
                    return true;
                }

                try
                {
                    await next.WaitAsync(limit.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    return false;
                }
            }
        }

        private void Count(long bytes)
        {
            Interlocked.Add(ref _written, bytes);
            TaskCompletionSource written;
            lock (_sync)
            {
                written = _next;
                _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            written.TrySetResult();
        }
    }
}

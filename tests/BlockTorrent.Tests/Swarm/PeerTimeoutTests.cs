using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Swarm;
using BlockTorrent.Testing;
using Microsoft.Extensions.Time.Testing;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// Keep-alives and the idle and stall timeouts, on a clock the test moves: the engine's notion of time comes from
/// its <see cref="TimeProvider"/>, so minutes pass in a few real milliseconds and the outcome does not depend on
/// how loaded the machine is.
/// </summary>
public sealed class PeerTimeoutTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task WeSendAKeepAliveToAPeerWeHaveNotWrittenToForTheIdleInterval()
    {
        var time = new FakeTimeProvider();
        var keepAlive = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        DateTimeOffset start = time.GetUtcNow();
        var (image, manifest) = await ImageAsync();

        // The peer answers the handshake and then says nothing.
        await using var peer = new HostilePeer(manifest, async (c, ct) =>
        {
            await c.ReadUntilKeepAliveAsync(ct);
            keepAlive.TrySetResult(time.GetUtcNow() - start);
        });

        await SeedToAsync(image, manifest, peer, time, keepAlive.Task, TimeSpan.FromMinutes(5));

        TimeSpan at = await keepAlive.Task;
        Assert.True(at >= TorrentSwarm.KeepAliveInterval, $"the keep-alive came after {at}, before the idle interval of {TorrentSwarm.KeepAliveInterval}");
    }

    [Fact]
    public async Task APeerSilentPastTheTimeoutIsDropped()
    {
        var time = new FakeTimeProvider();
        var closed = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        DateTimeOffset start = time.GetUtcNow();
        var (image, manifest) = await ImageAsync();

        // The peer answers the handshake and then says nothing.
        await using var peer = new HostilePeer(manifest, async (c, ct) =>
        {
            try
            {
                await c.ServeAsync(null, ct);
            }
            catch (Exception e) when (e is EndOfStreamException or IOException)
            {
                closed.TrySetResult(time.GetUtcNow() - start);
            }
        });

        await SeedToAsync(image, manifest, peer, time, closed.Task, TimeSpan.FromMinutes(10));

        TimeSpan at = await closed.Task;
        Assert.True(at > TorrentSwarm.SilenceTimeout, $"dropped after {at} of silence, before the timeout of {TorrentSwarm.SilenceTimeout}");
    }

    [Fact]
    public async Task APeerThatLeavesOurRequestsUnansweredIsDroppedAfterTwoStalls()
    {
        var time = new FakeTimeProvider();
        var closed = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
        DateTimeOffset start = time.GetUtcNow();
        var (_, manifest) = await ImageAsync();
        await using var staller = new HostilePeer(manifest, async (c, ct) =>
        {
            await c.HaveAllAndUnchokeAsync(ct);
            try
            {
                // Answers nothing, but keeps talking (so it is a staller, not a silent peer).
                await c.ServeAsync(_ => c.SendAsync(w => BlockTorrent.Wire.MessageWriter.WriteKeepAlive(w), ct), ct);
            }
            catch (Exception e) when (e is EndOfStreamException or IOException)
            {
                closed.TrySetResult(time.GetUtcNow() - start);
            }
        });
        var options = SwarmTestImages.Loopback();
        await using var deployer = new BlockTorrentClient(options, null, time);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        Task deploying = deployer.DeployAsync(manifest, new MemoryBlockDevice(manifest.Length), SwarmTestImages.From(staller.EndPoint), null, cts.Token);

        await FakeClock.AdvanceUntilAsync(time, closed.Task, TimeSpan.FromMinutes(5), cts.Token);

        TimeSpan at = await closed.Task;
        Assert.True(staller.RequestsReceived > 0, "the staller was asked for blocks");
        Assert.True(at > 2 * options.RequestTimeout, $"dropped after {at}, before two request timeouts of {options.RequestTimeout}");
        Assert.True(at < TorrentSwarm.SilenceTimeout, $"dropped after {at}: for silence, not for stalling");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => deploying);
    }

    private static Task<(byte[] Image, TorrentManifest Manifest)> ImageAsync() => SwarmTestImages.CreateAsync(1024 * 1024, seed: 71, TorrentVersions.V1);

    /// <summary>Seeds to <paramref name="peer"/> on the fake clock, moving it until <paramref name="done"/>.</summary>
    private static Task SeedToAsync(byte[] image, TorrentManifest manifest, HostilePeer peer, FakeTimeProvider time, Task done, TimeSpan maxFake) =>
        SwarmTestImages.SeedToAsync(
            image,
            manifest,
            peer.EndPoint,
            async ct =>
            {
                await Eventually.TrueAsync(() => peer.Connections == 1, Bound, "the seeder to connect", ct);
                await FakeClock.AdvanceUntilAsync(time, done, maxFake, ct);
            },
            Bound,
            time);
}

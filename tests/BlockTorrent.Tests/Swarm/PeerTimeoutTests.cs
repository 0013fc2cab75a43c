using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Swarm;
using BlockTorrent.Testing;
using BlockTorrent.Wire;
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

    [Fact]
    public async Task APeerThatAsksForBlocksAndNeverReadsThemIsDroppedLongBeforeAnHourPasses()
    {
        var time = new FakeTimeProvider();
        var (image, manifest) = await SwarmTestImages.CreateAsync(8 * 1024 * 1024, seed: 73, TorrentVersions.V1);
        var unchoked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The peer asks for the whole image, never reads a byte of it, and keeps talking (a keep-alive every 30 s
        // of fake time), so it is never silent: only the stuck sends can tell that it is gone.
        await using var sink = new HostilePeer(manifest, async (c, ct) =>
        {
            await c.SendAsync(w => MessageWriter.WriteSimple(w, MessageId.Interested), ct);
            await c.ReadUntilAsync(MessageId.Unchoke, ct);
            unchoked.TrySetResult();
            await c.SendAsync(
                w =>
                {
                    for (int piece = 0; piece < manifest.PieceCount; piece++)
                    {
                        for (int offset = 0; offset < manifest.GetPieceSize(piece); offset += PiecePicker.BlockSize)
                        {
                            MessageWriter.WriteBlock(w, MessageId.Request, new BlockRequest(piece, offset, PiecePicker.BlockSize));
                        }
                    }
                },
                ct);
            DateTimeOffset last = time.GetUtcNow();
            while (true)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5), ct);
                if (time.GetUtcNow() - last >= TimeSpan.FromSeconds(30))
                {
                    last = time.GetUtcNow();
                    await c.SendAsync(w => MessageWriter.WriteKeepAlive(w), ct);
                }
            }
        });
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback(), null, time);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromMinutes(3));
        var dropped = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task watching = Task.Run(
            async () =>
            {
                await foreach (SwarmEvent e in seeder.WatchEventsAsync(cts.Token))
                {
                    if (e.Kind == SwarmEventKind.PeerDisconnected && e.Peer!.Port == sink.EndPoint.Port)
                    {
                        dropped.TrySetResult(e.Detail);
                    }
                }
            },
            cts.Token);
        var options = new SeedOptions();
        options.Peers.Add(sink.EndPoint);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), options, cts.Token);
        await unchoked.Task.WaitAsync(cts.Token);
        DateTimeOffset start = time.GetUtcNow();

        await FakeClock.AdvanceUntilAsync(time, dropped.Task, TimeSpan.FromHours(1), cts.Token);

        TimeSpan after = time.GetUtcNow() - start;
        Assert.Equal(BlockTorrent.Swarm.Connections.PeerConnection<Outgoing>.NotReadingReason, await dropped.Task);
        Assert.True(after < TimeSpan.FromMinutes(5), $"dropped after {after} of fake time");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);
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

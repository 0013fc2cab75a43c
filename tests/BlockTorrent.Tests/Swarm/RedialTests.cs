using System.Globalization;
using BlockTorrent.Devices;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Swarm;

public sealed class RedialTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task APeerThatDialledUsAndHungUpIsDialledBackAtThePortItListensOn()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(1024 * 1024, seed: 71);
        var dialledBack = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var peer = new HostilePeer(manifest, async (c, ct) =>
        {
            dialledBack.TrySetResult();
            await c.ServeAsync(null, ct);
        });
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), new SeedOptions(), cts.Token);

        // The peer reaches the seed first, names the port it listens on (BEP 10 "p"), then hangs up.
        HostilePeer.Connection? first = await peer.DialAsync(seeder.LocalEndPoint, cts.Token);
        Assert.NotNull(first);
        string handshake = string.Create(CultureInfo.InvariantCulture, $"d1:pi{peer.EndPoint.Port}ee");
        await first.SendExtendedAsync(0, handshake, cts.Token);
        await first.ReadUntilAsync(MessageId.Extended, cts.Token, extensionId: 0);
        await first.CloseAsync();

        await dialledBack.Task.WaitAsync(cts.Token);
        Assert.Equal(1, peer.Connections);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }
}

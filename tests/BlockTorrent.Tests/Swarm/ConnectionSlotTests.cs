using BlockTorrent.Devices;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// Connection slots under attack, over loopback with real sockets: a host holding every slot it can get must not
/// keep a target from its seed.
/// </summary>
public sealed class ConnectionSlotTests
{
    private static readonly TimeSpan DeployBound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task SilentSocketsAndIdlePeersFromManyAddressesCannotLockATargetOutOfItsSeed()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(4 * 1024 * 1024, seed: 161);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(DeployBound + TimeSpan.FromSeconds(60));
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);

        // 64 silent sockets (every pending-handshake slot) and 200 idle peers (every connection of the torrent),
        // four of each per address, so no per-address limit alone stops them.
        await using (var attack = new SlotAttack(seeder.LocalEndPoint, manifest, silent: 64, idle: 200, perAddress: 4))
        {
            await Eventually.TrueAsync(
                () => attack.SilentOpen >= 64 && attack.IdleAdmitted >= 150,
                TimeSpan.FromSeconds(60),
                () => $"the attack to hold the seed's slots ({attack.SilentOpen} silent sockets, {attack.IdleAdmitted} idle peers admitted)",
                cts.Token);

            await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
            var target = new MemoryBlockDevice(manifest.Length);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
            deadline.CancelAfter(DeployBound);
            DeploymentResult result = await deployer.DeployAsync(manifest, target, SwarmTestImages.From(seeder.LocalEndPoint), null, deadline.Token);
            TestContext.Current.TestOutputHelper?.WriteLine($"deployed in {result.Duration.TotalSeconds:F1} s; the seed closed idle attackers {attack.IdleDropped} times");

            Assert.True(image.AsSpan().SequenceEqual(target.Contents.Span), "the target differs from the image");
            Assert.True(result.PiecesDownloaded > 0, "nothing was downloaded");

            // An address whose peer was evicted evicts no one after, so each attacking peer takes another's slot at
            // most once: the idle peers cannot keep every slot young by evicting each other in turn.
            Assert.InRange(attack.IdleDropped, 0, 200);
        }

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }
}

using BlockTorrent.Devices;
using BlockTorrent.Testing;
using Microsoft.Extensions.Time.Testing;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// A super-seed with idle peers connected (they say they have nothing and never request), over loopback: they are
/// offered pieces like any peer, and must hold nothing back from a target that does request.
/// </summary>
public sealed class IdlePeerSuperSeedTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task IdlePeersOfferedEveryPieceDoNotHoldBackATargetEvenWhileTheSeedsClockStandsStill()
    {
        // 32 pieces of 256 KiB: the seed offers each peer 4 at a time, and 8 idle peers are offered all 32 before the
        // target arrives. The seed's clock never moves, so nothing that waits for time can release those pieces or
        // the target: it completes only if offers nobody requested are no first copies in flight, and if peers that
        // never requested do not count as others the target's pieces must be passed on to.
        const int PieceLength = 256 * 1024;
        var (image, manifest) = await SwarmTestImages.CreateAsync(32L * PieceLength, seed: 163, pieceLength: PieceLength);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        var frozen = new FakeTimeProvider();
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback(), null, frozen);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), new SeedOptions { SuperSeeding = SuperSeedMode.Always }, cts.Token);

        await using (var idle = new SlotAttack(seeder.LocalEndPoint, manifest, silent: 0, idle: 8, perAddress: 4))
        {
            await Eventually.TrueAsync(
                () => idle.IdleAdmitted >= 8,
                TimeSpan.FromSeconds(60),
                () => $"the seed to admit the idle peers ({idle.IdleAdmitted} admitted)",
                cts.Token);

            await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
            var target = new MemoryBlockDevice(manifest.Length);
            DeploymentResult result = await deployer.DeployAsync(manifest, target, SwarmTestImages.From(seeder.LocalEndPoint), null, cts.Token);

            Assert.True(image.AsSpan().SequenceEqual(target.Contents.Span), "the target differs from the image");
            Assert.True(result.PiecesDownloaded > 0, "nothing was downloaded");
            Assert.Equal(8, idle.IdleAdmitted);
        }

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }
}

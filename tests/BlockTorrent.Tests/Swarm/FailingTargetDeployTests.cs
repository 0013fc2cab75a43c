using BlockTorrent.Devices;
using BlockTorrent.Tests.Writing;

namespace BlockTorrent.Tests.Swarm;

public sealed class FailingTargetDeployTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(typeof(IOException))]
    [InlineData(typeof(NotSupportedException))]
    [InlineData(typeof(ArgumentException))]
    public async Task ADeployWhoseTargetThrowsOnWriteFailsWithThatErrorInsteadOfHanging(Type errorType)
    {
        // A target device is user code: whatever it throws must end the deployment with that error, not leave the
        // piece's commit failing unobserved while the deployment waits for ever.
        var (image, manifest) = await SwarmTestImages.CreateAsync(2 * 1024 * 1024, seed: 3);
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        var target = new InterceptingDevice(new MemoryBlockDevice(manifest.Length))
        {
            BeforeWrite = (_, _, _) => throw (Exception)Activator.CreateInstance(errorType, "the test device refuses writes")!,
        };

        Exception error = await Assert.ThrowsAnyAsync<Exception>(() => deployer.DeployAsync(manifest, target, SwarmTestImages.From(seeder.LocalEndPoint), null, cts.Token));

        Assert.False(cts.IsCancellationRequested, "the deployment hung until the test's bound");
        Assert.Contains("the test device refuses writes", error.ToString(), StringComparison.Ordinal);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }
}

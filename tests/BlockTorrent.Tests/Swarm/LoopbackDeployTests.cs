using BlockTorrent.Devices;
using BlockTorrent.Manifest;

namespace BlockTorrent.Tests.Swarm;

public sealed class LoopbackDeployTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task ASeedDeploysABitExactImageOntoAnotherClient(TorrentVersions versions)
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync((4 * 1024 * 1024) + 12_345, seed: 7, versions);

        var (target, result) = await DeployFromOneSeedAsync(image, manifest);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.Equal(0, result.HashFailures);
    }

    [Fact]
    public async Task ZeroPiecesAreNeverFetchedAndDuplicatesAreFetchedOnce()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(6 * 1024 * 1024, seed: 11);
        Assert.True(manifest.ZeroPieceCount > 0 && manifest.DuplicatePieceCount > 0, "the test image needs zero and duplicate pieces");

        var (target, result) = await DeployFromOneSeedAsync(image, manifest);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.Equal(SwarmTestImages.FetchedBytes(manifest), result.BytesDownloaded);
    }

    [Fact]
    public async Task ADeployingTargetSeedsWhatItHasToTheNextTarget()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(3 * 1024 * 1024, seed: 5);
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var first = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var second = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        var firstTarget = new MemoryBlockDevice(manifest.Length);
        var firstOptions = SwarmTestImages.From(seeder.LocalEndPoint);
        firstOptions.SeedAfter = TimeSpan.FromMinutes(5);
        Task<DeploymentResult> firstDeploy = first.DeployAsync(manifest, firstTarget, firstOptions, null, cts.Token);

        // The second target knows only the first: everything it gets, it gets from a deploying peer.
        var secondTarget = new MemoryBlockDevice(manifest.Length);
        await second.DeployAsync(manifest, secondTarget, SwarmTestImages.From(first.LocalEndPoint), null, cts.Token);

        Assert.Equal(image, secondTarget.Contents.ToArray());
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => firstDeploy);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    /// <summary>Seeds the image from one client and deploys it onto a fresh memory device with another.</summary>
    internal static async Task<(MemoryBlockDevice Target, DeploymentResult Result)> DeployFromOneSeedAsync(byte[] image, TorrentManifest manifest, DeployOptions? options = null, byte[]? targetContents = null)
    {
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        var target = targetContents is null ? new MemoryBlockDevice(manifest.Length) : new MemoryBlockDevice(targetContents);
        options ??= new DeployOptions();
        options.Peers.Add(seeder.LocalEndPoint);
        DeploymentResult result = await deployer.DeployAsync(manifest, target, options, null, cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
        return (target, result);
    }
}

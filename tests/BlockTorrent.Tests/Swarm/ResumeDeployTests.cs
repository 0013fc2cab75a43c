using BlockTorrent.Devices;
using BlockTorrent.Testing;
using BlockTorrent.Writing;

namespace BlockTorrent.Tests.Swarm;

public sealed class ResumeDeployTests
{
    [Fact]
    public async Task AResumedDeploymentFetchesOnlyThePiecesTheFirstRunDidNotWrite()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(6 * 1024 * 1024, seed: 31);
        using var dir = new TempDirectory();
        string resume = dir.File("target.resume");
        using var seeding = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seed = seeder.SeedAsync(manifest, new SlowDevice(new MemoryBlockDevice(image), TimeSpan.FromMilliseconds(15)), null, seeding.Token);
        var target = new MemoryBlockDevice(manifest.Length);

        // First run: cancelled once some pieces are on the device.
        await using (var first = new BlockTorrentClient(SwarmTestImages.Loopback()))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(seeding.Token);
            var options = SwarmTestImages.From(seeder.LocalEndPoint);
            options.ResumeFilePath = resume;
            var progress = new Progress<DeploymentProgress>(p =>
            {
                if (p.PiecesOnDevice > manifest.ZeroPieceCount + 10)
                {
                    stop.Cancel();
                }
            });
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => first.DeployAsync(manifest, target, options, progress, stop.Token));
        }

        Assert.True(ResumeState.TryLoad(resume, manifest.InfoHashV1!.Value, target.Name, target.Length, manifest.PieceCount, out ResumeState? state, out string? reason), reason);
        Assert.True(state.Count > manifest.ZeroPieceCount, "the first run saved its progress");

        // Second run: only what the resume file does not prove is fetched.
        await using var second = new BlockTorrentClient(SwarmTestImages.Loopback());
        var again = SwarmTestImages.From(seeder.LocalEndPoint);
        again.ResumeFilePath = resume;
        DeploymentResult result = await second.DeployAsync(manifest, target, again, null, seeding.Token);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.True(result.PiecesAlreadyPresent >= state.Count, $"{result.PiecesAlreadyPresent} pieces reused, {state.Count} in the resume file");
        Assert.True(result.BytesDownloaded <= SwarmTestImages.FetchedBytes(manifest, state.Contains), $"{result.BytesDownloaded} bytes fetched again");
        await seeding.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seed);
    }

    [Fact]
    public async Task ReimagingADiskThatDiffersInAFewPiecesFetchesOnlyThosePieces()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(4 * 1024 * 1024, seed: 33);
        byte[] old = (byte[])image.Clone();
        int[] changed = [3, 17, 40];
        foreach (int piece in changed)
        {
            old[(piece * SwarmTestImages.PieceLength) + 100] ^= 0xFF;
        }

        var options = new DeployOptions { CheckExistingData = true };
        var (target, result) = await LoopbackDeployTests.DeployFromOneSeedAsync(image, manifest, options, old);

        Assert.Equal(image, target.Contents.ToArray());
        long expected = changed.Where(p => !manifest.IsZeroPiece(p)).Select(p => (long)manifest.GetPieceSize(manifest.GetCanonicalPiece(p))).Distinct().Sum();
        Assert.True(result.BytesDownloaded <= changed.Length * SwarmTestImages.PieceLength, $"{result.BytesDownloaded} bytes fetched for {changed.Length} changed pieces");
        Assert.True(result.BytesDownloaded >= expected - SwarmTestImages.PieceLength, $"{result.BytesDownloaded} bytes fetched");
    }
}

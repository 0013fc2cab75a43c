using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using BlockTorrent.Writing;

namespace BlockTorrent.Tests.Swarm;

public sealed class ResumeDeployTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AResumedDeploymentFetchesOnlyThePiecesTheFirstRunDidNotWrite()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(6 * 1024 * 1024, seed: 31);
        using var dir = new TempDirectory();
        string resume = dir.File("target.resume");
        var target = new MemoryBlockDevice(manifest.Length);
        ResumeState state = await DeployUntilInterruptedAsync(image, manifest, target, resume);

        DeploymentResult result = await DeployAsync(image, manifest, target, resume);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.Equal(state.Count, result.ResumedPieces);
        Assert.Equal(0, result.ResumedPiecesRejected);
        Assert.True(result.PiecesAlreadyPresent >= state.Count, $"{result.PiecesAlreadyPresent} pieces reused, {state.Count} in the resume file");
        Assert.True(result.BytesDownloaded <= SwarmTestImages.FetchedBytes(manifest, state.Contains), $"{result.BytesDownloaded} bytes fetched again");
    }

    [Fact]
    public async Task AResumeFileLeftByAnInterruptedDeployDoesNotVouchForPiecesAnotherImageOverwrote()
    {
        var (imageA, manifestA) = await SwarmTestImages.CreateAsync(6 * 1024 * 1024, seed: 41);
        var (imageB, manifestB) = await SwarmTestImages.CreateAsync(6 * 1024 * 1024, seed: 42);
        using var dir = new TempDirectory();
        var target = new MemoryBlockDevice(manifestA.Length);
        ResumeState stateA = await DeployUntilInterruptedAsync(imageA, manifestA, target, dir.File("a.resume"));

        await DeployAsync(imageB, manifestB, target, dir.File("b.resume"));
        Assert.Equal(imageB, target.Contents.ToArray());
        DeploymentResult result = await DeployAsync(imageA, manifestA, target, dir.File("a.resume"));

        Assert.Equal(imageA, target.Contents.ToArray());
        int stale = stateA.Pieces.Count(p => !PieceEquals(manifestA, imageA, imageB, p));
        Assert.True(stale > 0, "image B differs from A in pieces the resume file names");
        Assert.Equal(stateA.Count, result.ResumedPieces);
        Assert.Equal(stale, result.ResumedPiecesRejected);
    }

    [Fact]
    public async Task AResumeFileCopiedFromAnotherTargetOfTheSameNameVouchesForNothingThisTargetDoesNotHold()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(6 * 1024 * 1024, seed: 43);
        using var dir = new TempDirectory();
        string resume = dir.File("copied.resume");
        ResumeState state = await DeployUntilInterruptedAsync(image, manifest, new MemoryBlockDevice(manifest.Length), resume);
        byte[] other = new byte[manifest.Length];
        new Random(44).NextBytes(other);
        var target = new MemoryBlockDevice(other);

        DeploymentResult result = await DeployAsync(image, manifest, target, resume);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.Equal(state.Count, result.ResumedPieces);
        Assert.Equal(state.Count, result.ResumedPiecesRejected);
        Assert.Equal(0, result.PiecesAlreadyPresent);
    }

    [Fact]
    public async Task PiecesTheResumeFileNamesThatWereOverwrittenSinceAreFetchedAgain()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(6 * 1024 * 1024, seed: 45);
        using var dir = new TempDirectory();
        string resume = dir.File("target.resume");
        var target = new MemoryBlockDevice(manifest.Length);
        ResumeState state = await DeployUntilInterruptedAsync(image, manifest, target, resume);
        int[] overwritten = [.. state.Pieces.Where(p => !manifest.IsZeroPiece(p)).Take(3)];
        Assert.Equal(3, overwritten.Length);
        foreach (int piece in overwritten)
        {
            await target.WriteAsync(manifest.GetPieceOffset(piece) + 100, new byte[] { (byte)(image[manifest.GetPieceOffset(piece) + 100] ^ 0xFF) }, Token);
        }

        DeploymentResult result = await DeployAsync(image, manifest, target, resume);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.Equal(state.Count, result.ResumedPieces);
        Assert.Equal(overwritten.Length, result.ResumedPiecesRejected);
        Assert.Equal(state.Count - overwritten.Length, result.PiecesAlreadyPresent);
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

    /// <summary>Deploys onto <paramref name="target"/> from a slow seed and cancels once some pieces are on it; returns the resume state it left.</summary>
    private static async Task<ResumeState> DeployUntilInterruptedAsync(byte[] image, TorrentManifest manifest, IBlockDevice target, string resume)
    {
        using var seeding = CancellationTokenSource.CreateLinkedTokenSource(Token);
        seeding.CancelAfter(TimeSpan.FromSeconds(90));
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seed = seeder.SeedAsync(manifest, new SlowDevice(new MemoryBlockDevice(image), TimeSpan.FromMilliseconds(15)), null, seeding.Token);
        await using (var client = new BlockTorrentClient(SwarmTestImages.Loopback()))
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
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.DeployAsync(manifest, target, options, progress, stop.Token));
        }

        await seeding.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seed);
        Assert.True(ResumeState.TryLoad(resume, manifest, target, out ResumeState? state, out string? reason), reason);
        Assert.True(state.Count > manifest.ZeroPieceCount && state.Count < manifest.PieceCount, $"the first run saved part of the image: {state.Count} of {manifest.PieceCount} pieces");
        return state;
    }

    /// <summary>Deploys onto <paramref name="target"/> from a seed of <paramref name="image"/> with a resume file.</summary>
    private static async Task<DeploymentResult> DeployAsync(byte[] image, TorrentManifest manifest, IBlockDevice target, string resume)
    {
        using var seeding = CancellationTokenSource.CreateLinkedTokenSource(Token);
        seeding.CancelAfter(TimeSpan.FromSeconds(90));
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seed = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, seeding.Token);
        await using var client = new BlockTorrentClient(SwarmTestImages.Loopback());
        var options = SwarmTestImages.From(seeder.LocalEndPoint);
        options.ResumeFilePath = resume;
        DeploymentResult result = await client.DeployAsync(manifest, target, options, null, seeding.Token);
        await seeding.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seed);
        return result;
    }

    private static bool PieceEquals(TorrentManifest manifest, byte[] a, byte[] b, int piece)
    {
        int offset = (int)manifest.GetPieceOffset(piece);
        int size = manifest.GetPieceSize(piece);
        return a.AsSpan(offset, size).SequenceEqual(b.AsSpan(offset, size));
    }
}

using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using BlockTorrent.Tests.Writing;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// What a deployment holds for each piece of its image. The managed heap is measured in the middle of a deployment
/// of N pieces and of 8N pieces, so what does not depend on the piece count (the runtime, the clients, the in-flight
/// blocks) cancels out of the difference.
/// </summary>
[Collection(nameof(PerPieceMemoryCollection))]
public sealed class PerPieceMemoryTests(ITestOutputHelper output)
{
    private const int PieceLength = 16 * 1024;
    private const int Pieces = 1024;

    // Per piece, a hybrid manifest holds its SHA-1 (20 bytes, in the info dictionary kept to serve magnet fetches, and
    // again in the hash list) and its SHA-256 (32 bytes, the piece layer), plus a zero mark and a duplicate index; each
    // client adds bits (have, wanted, flushed, each peer's bitfield) and a counter or two (availability). Both clients
    // of the test count. The bound is about twice that: an object per piece (24 bytes at least) in a few structures,
    // or any buffer or task per piece, exceeds it.
    private const int PerPieceBound = 256;

    // What a deployment allocates per piece, seed and target together, and frees again, in 16 KiB pieces (one block
    // each, so what is per piece is not hidden behind what is per block): the picker reuses its progress and no event
    // is made that nobody watches, so what is left is small objects around the commit, the write and the seed's read.
    // The bound is about a third above what is measured, a margin for the one-second work a slow run repeats more
    // often; any buffer per piece exceeds it. The picker's reuse alone is shown without that noise in PiecePickerTests.
    private const int GarbagePerPieceBound = 2048;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ADeploymentHoldsOnlyItsHashesAndAFewBytesPerPiece() =>
        Assert.InRange(await PerPieceAsync(HeapDuringDeploymentAsync, "managed heap in the middle of a deployment"), double.MinValue, PerPieceBound);

    [Fact]
    public async Task ADeploymentAllocatesOnlyAFewSmallObjectsPerPiece() =>
        Assert.InRange(await PerPieceAsync(AllocatedByDeploymentAsync, "allocated by a whole deployment, seed and target"), double.MinValue, GarbagePerPieceBound);

    // Measures at N and 8N pieces: what does not depend on the piece count cancels out of the difference.
    private async Task<double> PerPieceAsync(Func<int, Task<long>> measure, string what)
    {
        long small = await measure(Pieces);
        long large = await measure(8 * Pieces);
        double perPiece = (large - small) / (7.0 * Pieces);
        output.WriteLine($"{what}: {small} bytes with {Pieces} pieces, {large} with {8 * Pieces}: {perPiece:F0} bytes per piece");
        return perPiece;
    }

    // Seeds a generated image to a deployment from start to end and counts what the process allocated meanwhile; the
    // manifest is made before. Neither image nor target is in the heap.
    private static async Task<long> AllocatedByDeploymentAsync(int pieces)
    {
        var image = new GeneratedImage((long)pieces * PieceLength);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(image, new ManifestBuilderOptions { PieceLength = PieceLength, Name = "image.raw", Versions = TorrentVersions.Hybrid }, Token);
        using var directory = new TempDirectory();
        await using var target = FileBlockDevice.Create(directory.File("target.raw"), manifest.Length);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);
        cts.CancelAfter(TimeSpan.FromMinutes(4));

        long before = GC.GetTotalAllocatedBytes(precise: true);
        await using (var seeder = new BlockTorrentClient(SmallOptions()))
        await using (var deployer = new BlockTorrentClient(SmallOptions()))
        {
            Task seeding = seeder.SeedAsync(manifest, image, null, cts.Token);
            DeployOptions deploy = SwarmTestImages.From(seeder.LocalEndPoint);
            deploy.UseManifestTrackers = false;
            await deployer.DeployAsync(manifest, target, deploy, null, cts.Token);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
        }

        return GC.GetTotalAllocatedBytes(precise: true) - before;
    }

    // Small budgets, so neither the writer's buffers nor the seed's read cache grows with the image.
    private static BlockTorrentClientOptions SmallOptions()
    {
        BlockTorrentClientOptions options = SwarmTestImages.Loopback();
        options.ReadCacheSize = 0;
        options.DownloadMemory = 1024 * 1024;
        return options;
    }

    // Seeds a generated image to a deployment whose target holds its first write, so the deployment stays in the
    // middle (a connected peer, the picker and the writer all built, the in-flight budget filling), and measures the
    // managed heap then. Neither image nor target is in the heap: the image is computed and the target is a sparse file.
    private static async Task<long> HeapDuringDeploymentAsync(int pieces)
    {
        var image = new GeneratedImage((long)pieces * PieceLength);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(image, new ManifestBuilderOptions { PieceLength = PieceLength, Name = "image.raw", Versions = TorrentVersions.Hybrid }, Token);
        using var directory = new TempDirectory();
        await using var file = FileBlockDevice.Create(directory.File("target.raw"), manifest.Length);
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var target = new InterceptingDevice(file)
        {
            BeforeWrite = (_, _, cancellationToken) =>
            {
                held.TrySetResult();
                return release.Task.WaitAsync(cancellationToken);
            },
        };

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);
        cts.CancelAfter(TimeSpan.FromMinutes(2));
        await using var seeder = new BlockTorrentClient(SmallOptions());
        await using var deployer = new BlockTorrentClient(SmallOptions());
        Task seeding = seeder.SeedAsync(manifest, image, null, cts.Token);
        DeployOptions deploy = SwarmTestImages.From(seeder.LocalEndPoint);
        deploy.UseManifestTrackers = false;
        Task deploying = deployer.DeployAsync(manifest, target, deploy, null, cts.Token);

        await held.Task.WaitAsync(cts.Token);
        long during = GC.GetTotalMemory(forceFullCollection: true);

        await cts.CancelAsync();
        release.TrySetResult();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => deploying);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
        return during;
    }

    /// <summary>A read-only image whose bytes are computed from their offset: random-looking, no zero or repeated piece, and no memory.</summary>
    private sealed class GeneratedImage(long length) : PassThroughDevice(new MemoryBlockDevice(1))
    {
        public override long Length => length;

        public override bool IsReadOnly => true;

        public override ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            int count = (int)Math.Min(buffer.Length, length - offset);
            Span<byte> span = buffer.Span[..count];
            for (int i = 0; i < count; i++)
            {
                long position = offset + i;
                ulong word = Mix((ulong)position >> 3);
                span[i] = (byte)(word >> (int)((position & 7) * 8));
            }

            return ValueTask.FromResult(count);
        }

        // SplitMix64's finalizer: every word of the image different, none zero in practice.
        private static ulong Mix(ulong x)
        {
            x += 0x9E3779B97F4A7C15UL;
            x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
            x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
            return x ^ (x >> 31);
        }
    }
}

/// <summary>Tests that measure the process's managed heap, run alone so no other test's allocations are counted.</summary>
[CollectionDefinition(nameof(PerPieceMemoryCollection), DisableParallelization = true)]
public sealed class PerPieceMemoryCollection;

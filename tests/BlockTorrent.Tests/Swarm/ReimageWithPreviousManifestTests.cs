using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Swarm;

public sealed class ReimageWithPreviousManifestTests
{
    private const int Pieces = 128;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    // Last month's disk held junk where pieces 0, 110, 120 and 127 now are, and the bytes of pieces 20, 25, 30 and
    // 35 in regions 100..103, which now hold new pieces: the check meets 20, 25, 30 and 35 missing before it reads
    // where their bytes sit.
    private static readonly int[] Changed = [0, 100, 101, 102, 103, 110, 120, 127];
    private static readonly (int Piece, int From)[] Moved = [(20, 100), (25, 101), (30, 102), (35, 103)];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GivenThePreviousManifestAReimageFetchesOnlyTheChangedPiecesThoughTheLinkOutrunsTheDisk()
    {
        (byte[] image, TorrentManifest manifest, byte[] old) = await ImagesAsync();
        TorrentManifest previous = await ManifestOfAsync(old);

        // Every region from 100 on is read only after a piece came from the swarm: the link is ahead of the disk.
        (DeploymentResult result, byte[] written) = await ReimageAsync(image, manifest, old, previous, readsFrom: 100);

        Assert.Equal(image, written);
        Assert.Equal(Changed.Length, result.PiecesDownloaded);
        Assert.Equal((long)Changed.Length * SwarmTestImages.PieceLength, result.BytesDownloaded);
        Assert.Equal(Moved.Length, result.PiecesCopiedLocally);
    }

    [Fact]
    public async Task GivenAnotherImagesManifestAsThePreviousOneAReimageStillWritesTheImageExactly()
    {
        (byte[] image, TorrentManifest manifest, byte[] old) = await ImagesAsync();
        byte[] unrelated = new byte[old.Length];
        new Random(7).NextBytes(unrelated);
        TorrentManifest previous = await ManifestOfAsync(unrelated);

        (DeploymentResult result, byte[] written) = await ReimageAsync(image, manifest, old, previous, readsFrom: 100);

        Assert.Equal(image, written);
        Assert.InRange(result.PiecesDownloaded, Changed.Length, Changed.Length + Moved.Length);
    }

    private static async Task<(byte[] Image, TorrentManifest Manifest, byte[] Old)> ImagesAsync()
    {
        var random = new Random(185);
        byte[] image = new byte[Pieces * SwarmTestImages.PieceLength];
        random.NextBytes(image);
        TorrentManifest manifest = await ManifestOfAsync(image);
        byte[] old = (byte[])image.Clone();
        foreach (int piece in Changed.Concat(Moved.Select(m => m.Piece)))
        {
            random.NextBytes(old.AsSpan(piece * SwarmTestImages.PieceLength, SwarmTestImages.PieceLength));
        }

        foreach ((int piece, int from) in Moved)
        {
            image.AsSpan(piece * SwarmTestImages.PieceLength, SwarmTestImages.PieceLength).CopyTo(old.AsSpan(from * SwarmTestImages.PieceLength));
        }

        return (image, manifest, old);
    }

    private static Task<TorrentManifest> ManifestOfAsync(byte[] bytes) =>
        ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])bytes.Clone()), new ManifestBuilderOptions { PieceLength = SwarmTestImages.PieceLength, Name = "reimage18.raw" }, Token);

    /// <summary>Re-images a copy of <paramref name="old"/>, holding every read from region <paramref name="readsFrom"/> on until the first piece was fetched.</summary>
    private static async Task<(DeploymentResult Result, byte[] Written)> ReimageAsync(byte[] image, TorrentManifest manifest, byte[] old, TorrentManifest previous, int readsFrom)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Token);
        cts.CancelAfter(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var reimaged = new BlockTorrentClient(SwarmTestImages.Loopback());
        var fetched = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task watching = WatchAsync(reimaged, fetched, cts.Token);
        // A plain seed: a super-seed offers pieces one at a time, and would wait for a request of one the held reads have not found missing yet.
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), new SeedOptions { SuperSeeding = SuperSeedMode.Never }, cts.Token);
        DeployOptions options = SwarmTestImages.From(seeder.LocalEndPoint);
        options.CheckExistingData = true;
        options.PreviousManifest = previous;
        var target = new MemoryBlockDevice((byte[])old.Clone());
        DeploymentResult result = await reimaged.DeployAsync(manifest, new HeldReadDevice(target, manifest.GetPieceOffset(readsFrom), fetched.Task), options, null, cts.Token);
        byte[] written = target.Contents.ToArray();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
        await watching;
        return (result, written);
    }

    private static async Task WatchAsync(BlockTorrentClient client, TaskCompletionSource fetched, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (SwarmEvent e in client.WatchEventsAsync(cancellationToken))
            {
                if (e.Kind == SwarmEventKind.PieceVerified)
                {
                    fetched.TrySetResult();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The test is over.
        }
    }

    /// <summary>Holds every read at or beyond an offset until a gate opens.</summary>
    private sealed class HeldReadDevice(IBlockDevice inner, long from, Task gate) : PassThroughDevice(inner)
    {
        public override async ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (offset + buffer.Length > from)
            {
                await gate.WaitAsync(cancellationToken);
            }

            return await base.ReadAsync(offset, buffer, cancellationToken);
        }
    }
}

using System.Net;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Swarm;

public sealed class WebSeedDeployTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task ALoneTargetDeploysABitExactImageFromTheManifestsWebSeedFetchingNoZeroOrRepeatedPiece()
    {
        var (image, _) = await SwarmTestImages.CreateAsync(6 * 1024 * 1024, seed: 19);
        await using var server = new RangeServer("image.raw", image);
        TorrentManifest manifest = await WithWebSeedAsync(image, server.Folder.ToString());
        Assert.True(manifest.ZeroPieceCount > 0 && manifest.DuplicatePieceCount > 0, "the test image needs zero and duplicate pieces");
        using var cts = new CancellationTokenSource(Bound);
        await using var client = new BlockTorrentClient(SwarmTestImages.Loopback());
        var target = new MemoryBlockDevice(manifest.Length);

        DeploymentResult result = await client.DeployAsync(manifest, target, new DeployOptions { WebSeedDelay = TimeSpan.Zero }, null, cts.Token);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.Equal(SwarmTestImages.FetchedBytes(manifest), server.BytesServed);
        Assert.Equal(SwarmTestImages.FetchedBytes(manifest), result.BytesDownloaded);
        lock (server.Ranges)
        {
            foreach ((long offset, long length) in server.Ranges)
            {
                int piece = (int)(offset / manifest.PieceLength);
                Assert.Equal(manifest.GetPieceOffset(piece), offset);
                Assert.Equal(manifest.GetPieceSize(piece), length);
                Assert.False(manifest.IsZeroPiece(piece), $"piece {piece} is all zeros");
                Assert.Equal(piece, manifest.GetCanonicalPiece(piece));
            }
        }
    }

    [Fact]
    public async Task ATargetWhosePeersAreUnreachableDeploysFromAWebSeedItWasGiven()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(3 * 1024 * 1024, seed: 20);
        await using var server = new RangeServer("disk.img", image);
        using var cts = new CancellationTokenSource(Bound);
        await using var client = new BlockTorrentClient(SwarmTestImages.Loopback());
        var target = new MemoryBlockDevice(manifest.Length);
        var options = new DeployOptions { WebSeedDelay = TimeSpan.FromMilliseconds(500) };
        options.Peers.Add(new IPEndPoint(IPAddress.Loopback, 1));
        options.WebSeeds.Add(new Uri(server.Folder, "disk.img"));

        await client.DeployAsync(manifest, target, options, null, cts.Token);

        Assert.Equal(image, target.Contents.ToArray());
    }

    [Fact]
    public async Task AWebSeedFetchesAlongsidePeersThatAreSlow()
    {
        var (image, _) = await SwarmTestImages.CreateAsync(8 * 1024 * 1024, seed: 21);
        await using var server = new RangeServer("image.raw", image);
        TorrentManifest manifest = await WithWebSeedAsync(image, server.Folder.ToString());
        using var cts = new CancellationTokenSource(Bound);
        BlockTorrentClientOptions slow = SwarmTestImages.Loopback();
        slow.MaxUploadRate = 256 * 1024;
        await using var seeder = new BlockTorrentClient(slow);
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        long seedUploaded = 0;
        var seedOptions = new SeedOptions { Progress = new Progress(p => Interlocked.Exchange(ref seedUploaded, p.BytesUploaded)) };
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), seedOptions, cts.Token);
        var target = new MemoryBlockDevice(manifest.Length);
        var options = SwarmTestImages.From(seeder.LocalEndPoint);
        options.WebSeedDelay = TimeSpan.FromSeconds(1);

        DeploymentResult result = await deployer.DeployAsync(manifest, target, options, null, cts.Token);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.True(server.BytesServed > 0, "the web seed sent nothing");
        Assert.True(result.BytesDownloaded > server.BytesServed, $"the peers sent nothing: {result.BytesDownloaded} bytes in all, {server.BytesServed} from the web seed");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Fact]
    public async Task AWebSeedSendingWrongBytesIsDroppedAndNothingItSentIsWritten()
    {
        var (image, _) = await SwarmTestImages.CreateAsync(4 * 1024 * 1024, seed: 22);
        await using var server = new RangeServer("image.raw", image) { Corrupt = true };
        TorrentManifest manifest = await WithWebSeedAsync(image, server.Folder.ToString());
        using var cts = new CancellationTokenSource(Bound);
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        var dropped = new TaskCompletionSource<SwarmEvent>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task watching = WatchAsync(deployer, e => e.Kind == SwarmEventKind.PeerBanned && e.Detail?.Contains("web seed", StringComparison.Ordinal) == true, dropped, cts.Token);
        var target = new OnlyImageBytes(image);
        Task<DeploymentResult> deploy = deployer.DeployAsync(manifest, target, new DeployOptions { WebSeedDelay = TimeSpan.Zero }, null, cts.Token);

        SwarmEvent drop = await dropped.Task.WaitAsync(cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => deploy);
        await watching;

        // The ban limit, and at most one more piece that was already under way on the second fetch.
        Assert.Contains(server.Folder.ToString(), drop.Detail, StringComparison.Ordinal);
        Assert.InRange(server.Requests, 3, 4);
        Assert.Equal(0, target.WrongWrites);
        Assert.Equal(0, target.DataBytesWritten);
    }

    private static async Task<TorrentManifest> WithWebSeedAsync(byte[] image, string url)
    {
        var options = new ManifestBuilderOptions { PieceLength = SwarmTestImages.PieceLength, Name = "image.raw" };
        options.WebSeeds.Add(url);
        return await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), options);
    }

    private static async Task WatchAsync(BlockTorrentClient client, Func<SwarmEvent, bool> match, TaskCompletionSource<SwarmEvent> found, CancellationToken ct)
    {
        try
        {
            await foreach (SwarmEvent e in client.WatchEventsAsync(ct))
            {
                if (match(e))
                {
                    found.TrySetResult(e);
                }
            }
        }
        catch (OperationCanceledException)
        {
            found.TrySetCanceled(ct);
        }
    }

    private sealed class Progress(Action<SeedProgress> report) : IProgress<SeedProgress>
    {
        public void Report(SeedProgress value) => report(value);
    }

    /// <summary>A memory device that counts the data written and every write whose bytes are not the image's there.</summary>
    private sealed class OnlyImageBytes(byte[] image) : PassThroughDevice(new MemoryBlockDevice(image.Length))
    {
        private long _written;
        private int _wrong;

        /// <summary>Gets the bytes written in writes that were not all zeros.</summary>
        public long DataBytesWritten => Interlocked.Read(ref _written);

        public int WrongWrites => Volatile.Read(ref _wrong);

        public override ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            Check(offset, data.Span);
            return base.WriteAsync(offset, data, cancellationToken);
        }

        public override ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
        {
            long at = offset;
            foreach (ReadOnlyMemory<byte> buffer in buffers)
            {
                Check(at, buffer.Span);
                at += buffer.Length;
            }

            return base.WriteGatherAsync(offset, buffers, cancellationToken);
        }

        private void Check(long offset, ReadOnlySpan<byte> data)
        {
            if (data.ContainsAnyExcept((byte)0))
            {
                Interlocked.Add(ref _written, data.Length);
            }

            if (!data.SequenceEqual(image.AsSpan((int)offset, data.Length)))
            {
                Interlocked.Increment(ref _wrong);
            }
        }
    }
}

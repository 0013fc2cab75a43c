using System.Net;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Swarm;

/// <summary>Images, manifests and loopback clients for swarm tests.</summary>
internal static class SwarmTestImages
{
    public const int PieceLength = 64 * 1024;

    /// <summary>Builds a mixed image (random, zero and repeated blocks) and its manifest.</summary>
    public static async Task<(byte[] Image, TorrentManifest Manifest)> CreateAsync(long length, int seed = 1, TorrentVersions versions = TorrentVersions.Hybrid, int pieceLength = PieceLength)
    {
        byte[] image = new TestImage { Length = length, Seed = seed, BlockSize = pieceLength }.ToArray();
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(
            new MemoryBlockDevice((byte[])image.Clone()),
            new ManifestBuilderOptions { PieceLength = pieceLength, Name = "image.raw", Versions = versions });
        return (image, manifest);
    }

    /// <summary>Options for a client on loopback with a free port and no multicast discovery.</summary>
    public static BlockTorrentClientOptions Loopback() => new()
    {
        ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        EnableLocalPeerDiscovery = false,
        RequestTimeout = TimeSpan.FromSeconds(3),
    };

    /// <summary>Deploy options that connect to the given peers.</summary>
    public static DeployOptions From(params IPEndPoint[] peers)
    {
        var options = new DeployOptions();
        foreach (IPEndPoint peer in peers)
        {
            options.Peers.Add(peer);
        }

        return options;
    }

    /// <summary>
    /// Seeds <paramref name="image"/> to one peer until <paramref name="until"/> completes (the whole run bounded by
    /// <paramref name="bound"/>), then stops the seed and checks that it stopped by cancellation.
    /// </summary>
    public static async Task SeedToAsync(byte[] image, TorrentManifest manifest, IPEndPoint peer, Func<CancellationToken, Task> until, TimeSpan bound, TimeProvider? time = null)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(bound);
        await using var seeder = new BlockTorrentClient(Loopback(), null, time ?? TimeProvider.System);
        var options = new SeedOptions();
        options.Peers.Add(peer);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), options, cts.Token);

        await until(cts.Token);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    /// <summary>The bytes a deployment must fetch: one copy of each distinct non-zero piece.</summary>
    public static long FetchedBytes(TorrentManifest manifest, Func<int, bool>? alreadyThere = null)
    {
        long bytes = 0;
        for (int i = 0; i < manifest.PieceCount; i++)
        {
            if (!manifest.IsZeroPiece(i) && manifest.GetCanonicalPiece(i) == i && !(alreadyThere?.Invoke(i) ?? false))
            {
                bytes += manifest.GetPieceSize(i);
            }
        }

        return bytes;
    }
}

using System.Net;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Swarm;

/// <summary>Test images with their manifests saved as .torrent files, and loopback client settings.</summary>
internal static class InteropImages
{
    public const int PieceLength = 64 * 1024;

    public static Task<(byte[] Image, TorrentManifest Manifest, string TorrentPath)> CreateAsync(TempDirectory dir, long length, int seed, TorrentVersions versions, string? tracker = null) =>
        CreateAsync(dir, new TestImage { Length = length, Seed = seed, BlockSize = PieceLength }, versions, tracker);

    /// <summary>Generates <paramref name="shape"/>, in pieces of its block size, and saves its manifest as image.torrent.</summary>
    public static async Task<(byte[] Image, TorrentManifest Manifest, string TorrentPath)> CreateAsync(TempDirectory dir, TestImage shape, TorrentVersions versions, string? tracker = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        byte[] image = shape.ToArray();
        var options = new ManifestBuilderOptions { PieceLength = shape.BlockSize, Name = "image.raw", Versions = versions };
        if (tracker is not null)
        {
            options.Trackers.Add(tracker);
        }

        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), options, TestContext.Current.CancellationToken);
        string path = dir.File("image.torrent");
        await manifest.SaveAsync(path, TestContext.Current.CancellationToken);
        return (image, manifest, path);
    }

    public static BlockTorrentClientOptions Loopback() => new()
    {
        ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
        EnableLocalPeerDiscovery = false,
    };
}

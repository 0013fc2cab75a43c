using BlockTorrent.Compression;
using BlockTorrent.Manifest;

namespace BlockTorrent.Samples;

/// <summary>What both samples (the CLI and the service) read off a compressed image's manifest. Compiled into both (samples/Shared).</summary>
internal static class CompressedManifests
{
    /// <summary>Gets the length the image has on a device: a compressed image's raw length (seekable or a stream), else the torrent's.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <returns>The bytes the target must hold.</returns>
    public static long ImageLength(TorrentManifest manifest) =>
        CompressedImage.FromManifest(manifest)?.RawLength ?? StreamImage.FromManifest(manifest)?.RawLength ?? manifest.Length;

    /// <summary>Gets a value indicating whether a manifest describes a compressed image (seekable or a stream), which lands on a device raw.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <returns><see langword="true"/> for a compressed image: a target holds its raw bytes, not the torrent's file.</returns>
    public static bool IsCompressed(TorrentManifest manifest) =>
        CompressedImage.FromManifest(manifest) is not null || StreamImage.FromManifest(manifest) is not null;

    /// <summary>Gets a stream format's name as the samples print it.</summary>
    /// <param name="format">The format.</param>
    /// <returns><c>zstd</c>, <c>gzip</c> or <c>xz</c>.</returns>
    public static string StreamName(StreamFormat format) => format switch
    {
        StreamFormat.Zstd => "zstd",
        StreamFormat.Gzip => "gzip",
        StreamFormat.Xz => "xz",
        _ => format.ToString(),
    };
}

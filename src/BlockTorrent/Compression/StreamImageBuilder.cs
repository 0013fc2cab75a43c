using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using BlockTorrent.Manifest;

namespace BlockTorrent.Compression;

/// <summary>
/// Makes the manifest of an image kept as one compressed stream (<c>.img.zst</c>, <c>.img.gz</c>, <c>.img.xz</c>):
/// the format is recognised by its magic number, the stream is decoded once to learn the raw length and SHA-256, and
/// the manifest is an ordinary .torrent of the compressed file plus that (see <see cref="StreamImage"/>). The file is
/// not changed: any BitTorrent client seeds it.
/// </summary>
/// <example>
/// <code>
/// TorrentManifest manifest = await StreamImageBuilder.CreateAsync("disk.img.zst");
/// await manifest.SaveAsync("disk.img.zst.torrent");
/// // A target: await client.DeployAsync(manifest, device, new DeployOptions { ScratchSize = 256L &lt;&lt; 20 });
/// </code>
/// </example>
public static class StreamImageBuilder
{
    private const int ReadLength = 4 * 1024 * 1024;

    /// <summary>Recognises a compressed stream by the magic number at its start.</summary>
    /// <param name="path">The file.</param>
    /// <returns>Its format, or <see langword="null"/> when it is none of <see cref="StreamFormat"/>'s.</returns>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static StreamFormat? DetectFormat(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        Span<byte> head = stackalloc byte[StreamFormats.MagicLength];
        int read = file.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return StreamFormats.Detect(head[..read]);
    }

    /// <summary>Makes the manifest of a compressed stream, decoding it once to record the raw length and SHA-256.</summary>
    /// <param name="path">The compressed file (zstd, gzip or xz, one stream).</param>
    /// <param name="manifestOptions">
    /// The manifest's options (versions, trackers, piece length, signing key and more); <see langword="null"/> for the
    /// defaults, which choose the piece length from the compressed length.
    /// </param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The manifest of the compressed file.</returns>
    /// <exception cref="ArgumentException">The file is not a stream of a known format, decodes to nothing, or the options are invalid.</exception>
    /// <exception cref="InvalidDataException">The stream does not decode.</exception>
    public static async Task<TorrentManifest> CreateAsync(string path, ManifestBuilderOptions? manifestOptions = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        manifestOptions ??= ManifestBuilderOptions.Default;
        manifestOptions.Validate();
        StreamFormat format = DetectFormat(path)
            ?? throw new ArgumentException($"'{path}' is not a zstd, gzip or xz stream (no known magic number at its start).", nameof(path));

        (long rawLength, byte[] sha256) = await HashRawAsync(path, format, cancellationToken).ConfigureAwait(false);
        if (rawLength == 0)
        {
            throw new ArgumentException($"'{path}' decodes to an empty image; there is nothing to deploy.", nameof(path));
        }

        byte[] entry = StreamImage.EncodeInfoEntry(format, rawLength, sha256);
        return await ManifestBuilder.CreateAsync(path, manifestOptions, manifestOptions.PieceLength, entry, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<(long Length, byte[] Sha256)> HashRawAsync(string path, StreamFormat format, CancellationToken cancellationToken)
    {
        var file = new FileStream(path, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.Read, BufferSize = 1024 * 1024, Options = FileOptions.Asynchronous | FileOptions.SequentialScan });
        Stream decoder = StreamFormats.OpenDecoder(format, file);
        await using ConfiguredAsyncDisposable decoderScope = decoder.ConfigureAwait(false);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] buffer = new byte[ReadLength];
        long length = 0;
        try
        {
            int read;
            while ((read = await decoder.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                length += read;
            }
        }
        catch (Exception e) when (e is not (OperationCanceledException or IOException or InvalidDataException))
        {
            // The decoders report corrupt input with their own exception types.
            throw new InvalidDataException($"'{path}' does not decode as {StreamFormats.Name(format)}: {e.Message}", e);
        }

        return (length, sha.GetHashAndReset());
    }
}

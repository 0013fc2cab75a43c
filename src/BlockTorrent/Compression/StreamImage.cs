using System.Buffers;
using BlockTorrent.Bencode;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;

namespace BlockTorrent.Compression;

/// <summary>
/// What a manifest says about an image kept as one compressed stream (<c>.img.zst</c>, <c>.img.gz</c>,
/// <c>.img.xz</c>): the torrent's file is that stream, unchanged, and it decodes only in order. A target holds
/// pieces that arrive ahead of its decoder in bounded scratch (<see cref="Scratch.IScratchStore"/>,
/// <see cref="DeployOptions.ScratchSize"/>) and writes the raw image to the device front to back. See
/// docs/COMPRESSED-IMAGES.md.
/// </summary>
/// <remarks>
/// The entry lives in the info dictionary under <c>blocktorrent</c>, as a seekable image's layout does, with
/// <c>layout</c> = <c>stream</c>: the format, the raw length and the raw SHA-256, which the target checks on the device
/// before it reports success. Other clients ignore the key and see one ordinary file.
/// </remarks>
public sealed class StreamImage
{
    /// <summary>The <c>layout</c> value of a stream.</summary>
    internal const string StreamLayout = "stream";

    private readonly byte[] _rawSha256;

    private StreamImage(StreamFormat format, long rawLength, byte[] rawSha256, long compressedLength)
    {
        Format = format;
        RawLength = rawLength;
        _rawSha256 = rawSha256;
        CompressedLength = compressedLength;
    }

    /// <summary>Gets the stream's compression format.</summary>
    public StreamFormat Format { get; }

    /// <summary>Gets the length of the raw image, as it lands on the device.</summary>
    public long RawLength { get; }

    /// <summary>Gets the SHA-256 of the raw image, checked on the device before a deployment reports success.</summary>
    public ReadOnlySpan<byte> RawSha256 => _rawSha256;

    /// <summary>Gets the length of the compressed stream: the torrent's length.</summary>
    public long CompressedLength { get; }

    /// <summary>Gets the raw length divided by the compressed length.</summary>
    public double Ratio => CompressedLength == 0 ? 0 : (double)RawLength / CompressedLength;

    /// <summary>Reads what a manifest says about its stream.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <returns>The stream, or <see langword="null"/> when the manifest describes a raw or seekable compressed image.</returns>
    /// <exception cref="InvalidTorrentException">The manifest's entry names a stream but is malformed.</exception>
    public static StreamImage? FromManifest(TorrentManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return ImageInfoEntry.Read(manifest) is { IsStream: true } entry ? FromEntry(entry, manifest) : null;
    }

    /// <summary>Hashes the first <see cref="RawLength"/> bytes of a device and compares them with <see cref="RawSha256"/>.</summary>
    /// <param name="device">The device holding the raw image.</param>
    /// <param name="cancellationToken">Cancels between reads.</param>
    /// <returns><see langword="true"/> when the device holds the raw image.</returns>
    /// <exception cref="ArgumentException">The device is shorter than the raw image.</exception>
    public Task<bool> MatchesRawAsync(IBlockDevice device, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        return RawImageHash.MatchesAsync(device, RawLength, _rawSha256, cancellationToken);
    }

    /// <summary>Writes the info dictionary entry (key and value) of a stream, for <see cref="ManifestBuilder"/>.</summary>
    internal static byte[] EncodeInfoEntry(StreamFormat format, long rawLength, ReadOnlySpan<byte> rawSha256)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        var writer = new BencodeWriter(buffer);
        writer.WriteString(ImageInfoEntry.InfoKey);

        // Keys in ascending byte order, as bencode's canonical form requires.
        writer.WriteStartDictionary();
        writer.WriteString("compression");
        writer.WriteString(StreamFormats.Name(format));
        writer.WriteString("layout");
        writer.WriteString(StreamLayout);
        writer.WriteString("length");
        writer.WriteInteger(rawLength);
        writer.WriteString("sha256");
        writer.WriteString(rawSha256);
        writer.WriteEnd();
        return buffer.WrittenSpan.ToArray();
    }

    private static StreamImage FromEntry(ImageInfoEntry entry, TorrentManifest manifest)
    {
        if (StreamFormats.FromName(entry.Compression) is not { } format)
        {
            throw ImageInfoEntry.Invalid($"the stream compression '{entry.Compression}' is not one this library decodes (zstd, gzip, xz).");
        }

        if (entry.Length is not { } raw || raw <= 0)
        {
            throw ImageInfoEntry.Invalid("the raw length is missing or not positive.");
        }

        return new StreamImage(format, raw, entry.RawSha256(), manifest.Length);
    }
}

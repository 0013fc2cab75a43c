using System.IO.Compression;
using SharpCompress.Compressors.Xz;
using ZstdSharp;

namespace BlockTorrent.Compression;

/// <summary>The stream formats' names in a manifest, their magic numbers, and their decoders (maintained libraries only).</summary>
internal static class StreamFormats
{
    /// <summary>The most bytes <see cref="Detect"/> looks at.</summary>
    public const int MagicLength = 6;

    /// <summary>Gets a format's name in the manifest's <c>compression</c> key.</summary>
    public static string Name(StreamFormat format) => format switch
    {
        StreamFormat.Zstd => "zstd",
        StreamFormat.Gzip => "gzip",
        StreamFormat.Xz => "xz",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Not a stream format."),
    };

    /// <summary>Reads a format's name from the manifest.</summary>
    public static StreamFormat? FromName(string? name) => name switch
    {
        "zstd" => StreamFormat.Zstd,
        "gzip" => StreamFormat.Gzip,
        "xz" => StreamFormat.Xz,
        _ => null,
    };

    /// <summary>Recognises a format by the magic number at the start of a file.</summary>
    /// <param name="head">The file's first bytes (at least <see cref="MagicLength"/> when it is that long).</param>
    /// <returns>The format, or <see langword="null"/> for none of them.</returns>
    public static StreamFormat? Detect(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0x28, 0xB5, 0x2F, 0xFD]) || ZstdFrames.IsSkippable(head))
        {
            return StreamFormat.Zstd;
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0x1F, 0x8B]))
        {
            return StreamFormat.Gzip;
        }

        if (head.StartsWith((ReadOnlySpan<byte>)[0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]))
        {
            return StreamFormat.Xz;
        }

        return null;
    }

    /// <summary>Opens a decoder over a compressed stream; disposing it disposes <paramref name="compressed"/>.</summary>
    public static Stream OpenDecoder(StreamFormat format, Stream compressed) => format switch
    {
        StreamFormat.Zstd => new DecompressionStream(compressed, leaveOpen: false),
        StreamFormat.Gzip => new GZipStream(compressed, CompressionMode.Decompress, leaveOpen: false),
        StreamFormat.Xz => new XZStream(compressed),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Not a stream format."),
    };
}

using System.Text;
using BlockTorrent.Bencode;
using BlockTorrent.Manifest;

namespace BlockTorrent.Compression;

/// <summary>
/// The info dictionary's <c>blocktorrent</c> entry as read, before either kind of compressed image checks its part:
/// a seekable image (<see cref="CompressedImage"/>) or a stream (<see cref="StreamImage"/>, <c>layout</c> =
/// <c>stream</c>). Every key either kind writes is read here; keys neither knows are skipped.
/// </summary>
internal sealed class ImageInfoEntry
{
    /// <summary>The info dictionary key that holds the entry.</summary>
    public const string InfoKey = "blocktorrent";

    private ImageInfoEntry()
    {
    }

    /// <summary>Gets the <c>compression</c> value: the format's name.</summary>
    public string? Compression { get; private set; }

    /// <summary>Gets the <c>layout</c> value: <see cref="StreamImage.StreamLayout"/> for a stream, absent for a seekable image.</summary>
    public string? Layout { get; private set; }

    /// <summary>Gets the <c>chunk size</c> value of a seekable image: the raw bytes per bit of the zero-chunk map.</summary>
    public long? ChunkSize { get; private set; }

    /// <summary>Gets a value indicating whether the entry has the <c>frames</c> key of a seekable image of layout 1.</summary>
    public bool HasFrames { get; private set; }

    /// <summary>Gets the <c>length</c> value: the raw image's length.</summary>
    public long? Length { get; private set; }

    /// <summary>Gets the <c>level</c> value of a seekable image.</summary>
    public long? Level { get; private set; }

    /// <summary>Gets the <c>pieces</c> value of a seekable image: 4-byte raw lengths, one per piece.</summary>
    public byte[]? Pieces { get; private set; }

    /// <summary>Gets the <c>sha256</c> value: the raw image's SHA-256.</summary>
    public byte[]? Sha256 { get; private set; }

    /// <summary>Gets the <c>version</c> value of a seekable image's layout.</summary>
    public long? Version { get; private set; }

    /// <summary>Gets the <c>zero chunks</c> value of a seekable image: one bit per raw chunk.</summary>
    public byte[]? ZeroChunks { get; private set; }

    /// <summary>Gets a value indicating whether the entry describes a stream, decoded in order.</summary>
    public bool IsStream => Layout == StreamImage.StreamLayout;

    /// <summary>Finds the info dictionary's <c>blocktorrent</c> entry and reads it.</summary>
    /// <returns>The entry, or <see langword="null"/> when the manifest has none (a raw image).</returns>
    /// <exception cref="InvalidTorrentException">A value has the wrong type.</exception>
    public static ImageInfoEntry? Read(TorrentManifest manifest)
    {
        var reader = new BencodeReader(manifest.InfoDictionary.Span);
        reader.ReadExpect(BencodeTokenType.StartDictionary, "the info dictionary");
        while (reader.Read() && reader.TokenType == BencodeTokenType.String)
        {
            if (reader.ValueSpan.SequenceEqual("blocktorrent"u8))
            {
                return Parse(ref reader);
            }

            reader.Skip();
        }

        return null;
    }

    /// <summary>Gets the raw image's SHA-256, which both kinds need.</summary>
    /// <exception cref="InvalidTorrentException">It is missing or not 32 bytes.</exception>
    public byte[] RawSha256() => Sha256 is { Length: 32 } sha256 ? sha256 : throw Invalid("the raw image's SHA-256 is missing or not 32 bytes.");

    /// <summary>Makes the error of a malformed entry.</summary>
    public static InvalidTorrentException Invalid(string why) => new("Invalid torrent: info.blocktorrent: " + why);

    private static ImageInfoEntry Parse(ref BencodeReader reader)
    {
        var entry = new ImageInfoEntry();
        reader.ReadExpect(BencodeTokenType.StartDictionary, "info.blocktorrent");
        while (reader.Read() && reader.TokenType == BencodeTokenType.String)
        {
            string key = Encoding.ASCII.GetString(reader.ValueSpan);
            switch (key)
            {
                case "compression":
                    entry.Compression = Encoding.ASCII.GetString(ReadValue(ref reader, BencodeTokenType.String, key));
                    break;
                case "layout":
                    entry.Layout = Encoding.ASCII.GetString(ReadValue(ref reader, BencodeTokenType.String, key));
                    break;
                case "chunk size":
                    entry.ChunkSize = ReadInteger(ref reader, key);
                    break;
                case "frames":
                    entry.HasFrames = true;
                    reader.Skip();
                    break;
                case "length":
                    entry.Length = ReadInteger(ref reader, key);
                    break;
                case "level":
                    entry.Level = ReadInteger(ref reader, key);
                    break;
                case "pieces":
                    entry.Pieces = ReadValue(ref reader, BencodeTokenType.String, key).ToArray();
                    break;
                case "sha256":
                    entry.Sha256 = ReadValue(ref reader, BencodeTokenType.String, key).ToArray();
                    break;
                case "version":
                    entry.Version = ReadInteger(ref reader, key);
                    break;
                case "zero chunks":
                    entry.ZeroChunks = ReadValue(ref reader, BencodeTokenType.String, key).ToArray();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        return entry;
    }

    private static ReadOnlySpan<byte> ReadValue(ref BencodeReader reader, BencodeTokenType type, string key)
    {
        reader.ReadExpect(type, "info.blocktorrent." + key);
        return reader.ValueSpan;
    }

    private static long ReadInteger(ref BencodeReader reader, string key)
    {
        reader.ReadExpect(BencodeTokenType.Integer, "info.blocktorrent." + key);
        return reader.IntegerValue;
    }
}

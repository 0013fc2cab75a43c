using System.Buffers;
using System.Text;
using BlockTorrent.Bencode;

namespace BlockTorrent.Wire;

/// <summary>
/// The BEP 10 extended handshake: which extensions a peer speaks (and the message ids it wants for them), its
/// request queue size (<c>reqq</c>), the info dictionary's size (<c>metadata_size</c>, BEP 9) and its listen port.
/// </summary>
/// <remarks>
/// Parsing is lenient about what it does not know (peers are not all canonical) and strict about shape: anything
/// that is not a well-formed dictionary is refused, and every number is clamped to its range, so a hostile value
/// costs nothing here (the metadata fetcher decides whether a <see cref="MetadataSize"/> is acceptable).
/// </remarks>
internal sealed class ExtensionHandshake
{
    /// <summary>The BEP 9 extension's name.</summary>
    public const string UtMetadataName = "ut_metadata";

    /// <summary>The BEP 11 extension's name.</summary>
    public const string UtPexName = "ut_pex";

    // Cap on what a peer may make us keep: the client string.
    private const int MaxClientLength = 256;

    /// <summary>Gets the peer's id for ut_metadata, or 0 when it does not speak it.</summary>
    public byte UtMetadata { get; init; }

    /// <summary>Gets the peer's id for ut_pex, or 0 when it does not speak it.</summary>
    public byte UtPex { get; init; }

    /// <summary>Gets the peer's id for BlockTorrent's <see cref="StreamWindowMessage"/>, or 0 when it does not speak it.</summary>
    public byte StreamWindow { get; init; }

    /// <summary>Gets the peer's id for BlockTorrent's <see cref="BlockHaveMessage"/>, or 0 when it does not speak it.</summary>
    public byte Blocks { get; init; }

    /// <summary>Gets the peer's request queue size, or 0 when it did not say.</summary>
    public int RequestQueue { get; init; }

    /// <summary>Gets the size of the info dictionary, or 0 when the peer did not say (clamped to <see cref="int.MaxValue"/>).</summary>
    public int MetadataSize { get; init; }

    /// <summary>Gets the peer's listen port, or 0 when it did not say.</summary>
    public int ListenPort { get; init; }

    /// <summary>Gets the peer's client name, when given.</summary>
    public string? Client { get; init; }

    /// <summary>Gets the peer's id for the extension message of that name, or 0 when it does not speak it (or it is one we do not read).</summary>
    /// <param name="name">The extension message's name.</param>
    /// <returns>The id.</returns>
    public byte IdFor(string name) => name switch
    {
        UtMetadataName => UtMetadata,
        UtPexName => UtPex,
        StreamWindowMessage.Name => StreamWindow,
        BlockHaveMessage.Name => Blocks,
        _ => 0,
    };

    /// <summary>Encodes our handshake, naming the extension messages we speak and the ids we want them under.</summary>
    /// <param name="metadataSize">The info dictionary's size, or 0 when we do not have it.</param>
    /// <param name="listenPort">Our listen port.</param>
    /// <param name="requestQueue">How many requests we queue from one peer.</param>
    /// <param name="messages">Each extension message's name and id.</param>
    /// <returns>The bencoded dictionary.</returns>
    public static byte[] Encode(int metadataSize, int listenPort, int requestQueue, IReadOnlyList<KeyValuePair<string, byte>> messages)
    {
        var output = new ArrayBufferWriter<byte>(128);
        var e = new BencodeWriter(output);
        e.WriteStartDictionary();
        e.WriteString("m"u8);
        e.WriteStartDictionary();

        // Canonical bencode: keys in byte order.
        foreach (KeyValuePair<string, byte> message in messages.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            e.WriteString(message.Key);
            e.WriteInteger(message.Value);
        }

        e.WriteEnd();
        if (metadataSize > 0)
        {
            e.WriteString("metadata_size"u8);
            e.WriteInteger(metadataSize);
        }

        if (listenPort > 0)
        {
            e.WriteString("p"u8);
            e.WriteInteger(listenPort);
        }

        e.WriteString("reqq"u8);
        e.WriteInteger(requestQueue);
        e.WriteString("v"u8);
        e.WriteString("BlockTorrent 0.1"u8);
        e.WriteEnd();
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Reads a peer's first handshake, ignoring what we do not understand.</summary>
    /// <param name="payload">The bencoded dictionary.</param>
    /// <param name="handshake">The parsed handshake.</param>
    /// <returns><see langword="false"/> when the payload is not a well-formed bencoded dictionary.</returns>
    public static bool TryParse(ReadOnlySpan<byte> payload, out ExtensionHandshake handshake) => TryParse(payload, null, out handshake);

    /// <summary>
    /// Reads a peer's handshake on top of what its earlier ones said. BEP 10 lets a peer send the handshake again to
    /// change its extensions: the <c>m</c> dictionary is additive (a name absent keeps its id, an id of 0 disables
    /// the extension), and every other key absent keeps its earlier value.
    /// </summary>
    /// <param name="payload">The bencoded dictionary.</param>
    /// <param name="previous">What the peer's earlier handshakes said, or <see langword="null"/> for its first.</param>
    /// <param name="handshake">The handshake in force after this one.</param>
    /// <returns><see langword="false"/> when the payload is not a well-formed bencoded dictionary.</returns>
    public static bool TryParse(ReadOnlySpan<byte> payload, ExtensionHandshake? previous, out ExtensionHandshake handshake)
    {
        handshake = previous ?? new ExtensionHandshake();
        var reader = new BencodeReader(payload, BencodeReaderOptions.Lenient);
        if (!reader.TryReadStartDictionary())
        {
            return false;
        }

        byte utMetadata = handshake.UtMetadata, utPex = handshake.UtPex, streamWindow = handshake.StreamWindow, blocks = handshake.Blocks;
        long reqq = handshake.RequestQueue, metadataSize = handshake.MetadataSize, port = handshake.ListenPort;
        string? client = handshake.Client;
        while (reader.TryReadEntry(out ReadOnlySpan<byte> key))
        {
            // A value of another type than expected keeps the earlier one, and is skipped.
            switch (reader.TokenType)
            {
                case BencodeTokenType.StartDictionary when key.SequenceEqual("m"u8):
                    if (!TryReadExtensionIds(ref reader, ref utMetadata, ref utPex, ref streamWindow, ref blocks))
                    {
                        return false;
                    }

                    break;
                case BencodeTokenType.String when key.SequenceEqual("v"u8):
                    ReadOnlySpan<byte> v = reader.ValueSpan;
                    client = Encoding.UTF8.GetString(v[..Math.Min(v.Length, MaxClientLength)]);
                    break;
                case BencodeTokenType.Integer when key.SequenceEqual("reqq"u8):
                    reqq = reader.IntegerValue;
                    break;
                case BencodeTokenType.Integer when key.SequenceEqual("metadata_size"u8):
                    metadataSize = reader.IntegerValue;
                    break;
                case BencodeTokenType.Integer when key.SequenceEqual("p"u8):
                    port = reader.IntegerValue;
                    break;
                default:
                    if (!reader.TrySkip())
                    {
                        return false;
                    }

                    break;
            }
        }

        if (reader.HasError)
        {
            return false;
        }

        handshake = new ExtensionHandshake
        {
            UtMetadata = utMetadata,
            UtPex = utPex,
            StreamWindow = streamWindow,
            Blocks = blocks,
            RequestQueue = (int)Math.Clamp(reqq, 0, 100_000),
            MetadataSize = (int)Math.Clamp(metadataSize, 0, int.MaxValue),
            ListenPort = (int)Math.Clamp(port, 0, 65535),
            Client = client,
        };
        return true;
    }

    private static bool TryReadExtensionIds(ref BencodeReader reader, ref byte utMetadata, ref byte utPex, ref byte streamWindow, ref byte blocks)
    {
        while (reader.TryReadEntry(out ReadOnlySpan<byte> name))
        {
            if (reader.TokenType == BencodeTokenType.Integer)
            {
                // Ids are one byte on the wire; anything else is ignored rather than trusted.
                long id = reader.IntegerValue;
                byte value = id is > 0 and <= byte.MaxValue ? (byte)id : (byte)0;
                if (name.SequenceEqual("ut_metadata"u8))
                {
                    utMetadata = value;
                }
                else if (name.SequenceEqual("ut_pex"u8))
                {
                    utPex = value;
                }
                else if (name.SequenceEqual("bt_stream_window"u8))
                {
                    streamWindow = value;
                }
                else if (name.SequenceEqual("bt_blocks"u8))
                {
                    blocks = value;
                }
            }
            else if (!reader.TrySkip())
            {
                return false;
            }
        }

        return !reader.HasError;
    }
}

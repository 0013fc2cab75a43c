using System.Buffers;
using System.Text;
using BlockTorrent.Bencode;

namespace BlockTorrent.Swarm;

/// <summary>
/// The BEP 10 extended handshake: which extensions a peer speaks (and the message ids it wants for them), its
/// request queue size (<c>reqq</c>), the info dictionary's size (<c>metadata_size</c>, BEP 9) and its listen port.
/// </summary>
internal sealed class ExtensionHandshake
{
    /// <summary>The id we ask peers to use for ut_metadata messages sent to us.</summary>
    public const byte UtMetadataId = 1;

    /// <summary>The id we ask peers to use for ut_pex messages sent to us.</summary>
    public const byte UtPexId = 2;

    /// <summary>Gets the peer's id for ut_metadata, or 0 when it does not speak it.</summary>
    public byte UtMetadata { get; init; }

    /// <summary>Gets the peer's id for ut_pex, or 0 when it does not speak it.</summary>
    public byte UtPex { get; init; }

    /// <summary>Gets the peer's request queue size, or 0 when it did not say.</summary>
    public int RequestQueue { get; init; }

    /// <summary>Gets the size of the info dictionary, or 0 when the peer did not say.</summary>
    public int MetadataSize { get; init; }

    /// <summary>Gets the peer's listen port, or 0 when it did not say.</summary>
    public int ListenPort { get; init; }

    /// <summary>Gets the peer's client name, when given.</summary>
    public string? Client { get; init; }

    /// <summary>Encodes our handshake.</summary>
    /// <param name="metadataSize">The info dictionary's size, or 0 when we do not have it.</param>
    /// <param name="listenPort">Our listen port.</param>
    /// <param name="requestQueue">How many requests we queue from one peer.</param>
    /// <param name="pex">Whether we speak ut_pex (not for private torrents).</param>
    /// <returns>The bencoded dictionary.</returns>
    public static byte[] Encode(int metadataSize, int listenPort, int requestQueue, bool pex)
    {
        var output = new ArrayBufferWriter<byte>(128);
        var w = new BencodeWriter(output);
        w.WriteStartDictionary();
        w.WriteString("m");
        w.WriteStartDictionary();
        w.WriteString("ut_metadata");
        w.WriteInteger(UtMetadataId);
        if (pex)
        {
            w.WriteString("ut_pex");
            w.WriteInteger(UtPexId);
        }

        w.WriteEnd();
        if (metadataSize > 0)
        {
            w.WriteString("metadata_size");
            w.WriteInteger(metadataSize);
        }

        if (listenPort > 0)
        {
            w.WriteString("p");
            w.WriteInteger(listenPort);
        }

        w.WriteString("reqq");
        w.WriteInteger(requestQueue);
        w.WriteString("v");
        w.WriteString("BlockTorrent 0.1");
        w.WriteEnd();
        return output.WrittenSpan.ToArray();
    }

    /// <summary>Reads a peer's handshake, ignoring what we do not understand.</summary>
    /// <param name="payload">The bencoded dictionary.</param>
    /// <param name="handshake">The parsed handshake.</param>
    /// <returns><see langword="false"/> when the payload is not a bencoded dictionary.</returns>
    public static bool TryParse(ReadOnlySpan<byte> payload, out ExtensionHandshake handshake)
    {
        handshake = new ExtensionHandshake();
        BencodeValue root;
        try
        {
            root = BencodeValue.Parse(payload, new BencodeReaderOptions { MaxDepth = 8, MaxSize = payload.Length });
        }
        catch (BencodeException)
        {
            return false;
        }

        if (root.Dictionary is null)
        {
            return false;
        }

        byte utMetadata = 0;
        byte utPex = 0;
        if (Get(root, "m")?.Dictionary is { } m)
        {
            utMetadata = ExtensionId(Get(m, "ut_metadata"));
            utPex = ExtensionId(Get(m, "ut_pex"));
        }

        handshake = new ExtensionHandshake
        {
            UtMetadata = utMetadata,
            UtPex = utPex,
            RequestQueue = (int)Math.Clamp(Get(root, "reqq")?.Integer ?? 0, 0, 100_000),
            MetadataSize = (int)Math.Clamp(Get(root, "metadata_size")?.Integer ?? 0, 0, int.MaxValue),
            ListenPort = (int)Math.Clamp(Get(root, "p")?.Integer ?? 0, 0, 65535),
            Client = Get(root, "v")?.Bytes is { } v ? Encoding.UTF8.GetString(v) : null,
        };
        return true;
    }

    /// <summary>Gets a dictionary entry by its ASCII key.</summary>
    /// <param name="dictionary">A dictionary value.</param>
    /// <param name="key">The key.</param>
    /// <returns>The value, or <see langword="null"/> when absent.</returns>
    public static BencodeValue? Get(BencodeValue dictionary, string key) =>
        dictionary.Dictionary is { } d ? Get(d, key) : null;

    private static BencodeValue? Get(SortedList<byte[], BencodeValue> dictionary, string key) =>
        dictionary.TryGetValue(Encoding.ASCII.GetBytes(key), out BencodeValue? value) ? value : null;

    private static byte ExtensionId(BencodeValue? value) =>
        value is { Kind: BencodeTokenType.Integer, Integer: > 0 and <= 255 } ? (byte)value.Integer : (byte)0;
}

using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BlockTorrent.Wire;

/// <summary>
/// The BEP 10 extended handshake: which extensions a peer speaks and under which message ids (<c>m</c>), its
/// client name (<c>v</c>), listen port (<c>p</c>), request queue depth (<c>reqq</c>), the size of the info
/// dictionary (<c>metadata_size</c>, BEP 9), and the address it sees us at (<c>yourip</c>).
/// </summary>
internal sealed class ExtensionHandshake
{
    /// <summary>The id we give ut_pex (BEP 11) in our <c>m</c> dictionary; peers send us ut_pex messages with it.</summary>
    public const byte LocalUtPexId = 1;

    /// <summary>The id we give ut_metadata (BEP 9); peers send us ut_metadata messages with it.</summary>
    public const byte LocalUtMetadataId = 2;

    /// <summary>
    /// The request queue depth BlockTorrent advertises: 2000, as libtorrent does, so that a fast peer may keep
    /// enough 16 KiB requests in flight to fill a 10 GbE link with a seeking disk behind it.
    /// </summary>
    public const int DefaultRequestQueueLength = 2000;

    /// <summary>The largest info dictionary we accept or announce: 64 MiB.</summary>
    public const int MaxMetadataSize = 64 * 1024 * 1024;

    // Caps on what a peer may make us keep: extension names and the client string.
    private const int MaxExtensions = 64;
    private const int MaxNameLength = 64;
    private const int MaxClientLength = 256;

    /// <summary>Gets the extensions and their ids in the sender's <c>m</c> dictionary (an id of 0 disables one).</summary>
    public IReadOnlyDictionary<string, byte> Extensions { get; init; } = new Dictionary<string, byte>();

    /// <summary>Gets the sender's client name and version, or <see langword="null"/>.</summary>
    public string? Client { get; init; }

    /// <summary>Gets the sender's TCP listen port, or <see langword="null"/>.</summary>
    public int? ListenPort { get; init; }

    /// <summary>Gets how many outstanding requests the sender accepts, or <see langword="null"/>.</summary>
    public int? RequestQueueLength { get; init; }

    /// <summary>Gets the size of the info dictionary in bytes (BEP 9), or <see langword="null"/> when the sender does not know it.</summary>
    public int? MetadataSize { get; init; }

    /// <summary>Gets the address the sender sees the receiver at, or <see langword="null"/>.</summary>
    public IPAddress? YourIp { get; init; }

    /// <summary>Gets a value indicating whether the sender only uploads (a seed, or a peer that will not download).</summary>
    public bool UploadOnly { get; init; }

    /// <summary>Gets the id the sender gave an extension, or 0 when it does not speak it.</summary>
    /// <param name="name">The extension name, such as <c>ut_metadata</c>.</param>
    /// <returns>The id.</returns>
    public byte GetExtensionId(string name) => Extensions.TryGetValue(name, out byte id) ? id : (byte)0;

    /// <summary>Creates the handshake BlockTorrent sends: ut_metadata and ut_pex under the local ids.</summary>
    /// <param name="listenPort">Our listen port, or <see langword="null"/>.</param>
    /// <param name="metadataSize">The info dictionary size when we have it, or <see langword="null"/>.</param>
    /// <param name="yourIp">The remote peer's address as we see it, or <see langword="null"/>.</param>
    /// <param name="uploadOnly">Whether we only seed.</param>
    /// <returns>The handshake.</returns>
    public static ExtensionHandshake CreateLocal(int? listenPort, int? metadataSize, IPAddress? yourIp, bool uploadOnly = false) => new()
    {
        Extensions = new Dictionary<string, byte>(StringComparer.Ordinal) { ["ut_metadata"] = LocalUtMetadataId, ["ut_pex"] = LocalUtPexId },
        Client = "BlockTorrent 0.1.0",
        ListenPort = listenPort,
        RequestQueueLength = DefaultRequestQueueLength,
        MetadataSize = metadataSize,
        YourIp = yourIp,
        UploadOnly = uploadOnly,
    };

    /// <summary>Parses an extended handshake payload (after the extension id byte).</summary>
    /// <param name="payload">The bencoded dictionary.</param>
    /// <returns>The handshake, or <see langword="null"/> when the payload is not a valid one.</returns>
    public static ExtensionHandshake? TryParse(ReadOnlySpan<byte> payload)
    {
        var scanner = new BencodeScanner(payload);
        var extensions = new Dictionary<string, byte>(StringComparer.Ordinal);
        string? client = null;
        int? port = null, reqq = null, metadataSize = null;
        IPAddress? yourIp = null;
        bool uploadOnly = false;
        if (!scanner.TryEnterDictionary())
        {
            return null;
        }

        while (scanner.TryReadKey(out ReadOnlySpan<byte> key))
        {
            long value;
            if (key.SequenceEqual("m"u8))
            {
                if (!scanner.TryEnterDictionary() || !TryReadExtensionIds(ref scanner, extensions))
                {
                    return null;
                }
            }
            else if (key.SequenceEqual("v"u8) && scanner.TryReadString(out ReadOnlySpan<byte> v))
            {
                client = Encoding.UTF8.GetString(v[..Math.Min(v.Length, MaxClientLength)]);
            }
            else if (key.SequenceEqual("p"u8) && scanner.TryReadInteger(out value))
            {
                port = value is > 0 and <= ushort.MaxValue ? (int)value : null;
            }
            else if (key.SequenceEqual("reqq"u8) && scanner.TryReadInteger(out value))
            {
                reqq = value > 0 ? (int)Math.Min(value, int.MaxValue) : null;
            }
            else if (key.SequenceEqual("metadata_size"u8) && scanner.TryReadInteger(out value))
            {
                if (value is <= 0 or > MaxMetadataSize)
                {
                    return null;
                }

                metadataSize = (int)value;
            }
            else if (key.SequenceEqual("upload_only"u8) && scanner.TryReadInteger(out value))
            {
                uploadOnly = value != 0;
            }
            else if (key.SequenceEqual("yourip"u8) && scanner.TryReadString(out ReadOnlySpan<byte> ip))
            {
                yourIp = ip.Length is 4 or 16 ? new IPAddress(ip) : null;
            }
            else if (!scanner.TrySkipValue())
            {
                return null;
            }
        }

        if (scanner.Failed)
        {
            return null;
        }

        return new ExtensionHandshake
        {
            Extensions = extensions,
            Client = client,
            ListenPort = port,
            RequestQueueLength = reqq,
            MetadataSize = metadataSize,
            YourIp = yourIp,
            UploadOnly = uploadOnly,
        };
    }

    /// <summary>Writes the handshake's bencoded dictionary (the payload after the extension id byte).</summary>
    /// <param name="writer">The destination.</param>
    public void WriteTo(IBufferWriter<byte> writer)
    {
        var e = new BencodeEmitter(writer);
        e.StartDictionary();
        e.String("m"u8);
        e.StartDictionary();
        foreach (KeyValuePair<string, byte> extension in Extensions.OrderBy(x => x.Key, StringComparer.Ordinal))
        {
            e.Integer(Encoding.UTF8.GetBytes(extension.Key), extension.Value);
        }

        e.End();
        if (MetadataSize is int size)
        {
            e.Integer("metadata_size"u8, size);
        }

        if (ListenPort is int port)
        {
            e.Integer("p"u8, port);
        }

        if (RequestQueueLength is int reqq)
        {
            e.Integer("reqq"u8, reqq);
        }

        if (UploadOnly)
        {
            e.Integer("upload_only"u8, 1);
        }

        if (Client is not null)
        {
            e.String("v"u8, Encoding.UTF8.GetBytes(Client));
        }

        if (YourIp is not null)
        {
            IPAddress ip = YourIp.IsIPv4MappedToIPv6 ? YourIp.MapToIPv4() : YourIp;
            e.String("yourip"u8, ip.GetAddressBytes());
        }

        e.End();
    }

    private static bool TryReadExtensionIds(ref BencodeScanner scanner, Dictionary<string, byte> extensions)
    {
        while (scanner.TryReadKey(out ReadOnlySpan<byte> name))
        {
            if (scanner.TryReadInteger(out long id))
            {
                // Ids are one byte on the wire; anything else is ignored rather than trusted.
                if (id is >= 0 and <= byte.MaxValue && name.Length <= MaxNameLength && extensions.Count < MaxExtensions)
                {
                    extensions[Encoding.UTF8.GetString(name)] = (byte)id;
                }
            }
            else if (!scanner.TrySkipValue())
            {
                return false;
            }
        }

        return !scanner.Failed;
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using BlockTorrent.Bencode;

namespace BlockTorrent.Wire;

/// <summary>
/// A BEP 11 ut_pex message: peers the sender connected to (<c>added</c>, <c>added6</c>, with flags in
/// <c>added.f</c> / <c>added6.f</c>) and peers it dropped (<c>dropped</c>, <c>dropped6</c>) since its last one.
/// Addresses travel compact: 4 bytes of IPv4 or 16 of IPv6, then a 2-byte port, big-endian.
/// </summary>
internal sealed class PexMessage
{
    /// <summary>The most peers accepted per list: BEP 11 allows 50 added and 50 dropped per message; we tolerate more.</summary>
    public const int MaxPeersPerList = 200;

    /// <summary>Gets the peers the sender connected to.</summary>
    public List<PexPeer> Added { get; } = [];

    /// <summary>Gets the peers the sender disconnected from.</summary>
    public List<PexPeer> Dropped { get; } = [];

    /// <summary>Parses a ut_pex payload (after the extension id byte).</summary>
    /// <param name="payload">The bencoded dictionary.</param>
    /// <returns>The message, or <see langword="null"/> when it is malformed.</returns>
    public static PexMessage? TryParse(ReadOnlySpan<byte> payload)
    {
        var reader = new BencodeReader(payload, BencodeReaderOptions.Lenient);
        ReadOnlySpan<byte> added = default, addedFlags = default, added6 = default, added6Flags = default, dropped = default, dropped6 = default;
        if (!reader.TryReadStartDictionary())
        {
            return null;
        }

        while (reader.TryReadEntry(out ReadOnlySpan<byte> key))
        {
            if (reader.TokenType != BencodeTokenType.String)
            {
                if (!reader.TrySkip())
                {
                    return null;
                }

                continue;
            }

            ReadOnlySpan<byte> value = reader.ValueSpan;
            if (key.SequenceEqual("added"u8))
            {
                added = value;
            }
            else if (key.SequenceEqual("added.f"u8))
            {
                addedFlags = value;
            }
            else if (key.SequenceEqual("added6"u8))
            {
                added6 = value;
            }
            else if (key.SequenceEqual("added6.f"u8))
            {
                added6Flags = value;
            }
            else if (key.SequenceEqual("dropped"u8))
            {
                dropped = value;
            }
            else if (key.SequenceEqual("dropped6"u8))
            {
                dropped6 = value;
            }
        }

        var message = new PexMessage();
        bool valid = !reader.HasError
            && TryReadPeers(added, addedFlags, 4, message.Added)
            && TryReadPeers(added6, added6Flags, 16, message.Added)
            && TryReadPeers(dropped, default, 4, message.Dropped)
            && TryReadPeers(dropped6, default, 16, message.Dropped);
        return valid ? message : null;
    }

    /// <summary>Writes the payload (after the extension id byte).</summary>
    /// <param name="writer">The destination.</param>
    public void WriteTo(IBufferWriter<byte> writer)
    {
        var e = new BencodeWriter(writer);
        e.WriteStartDictionary();

        // Keys in ascending byte order: added, added.f, added6, added6.f, dropped, dropped6.
        e.WriteString("added"u8);
        e.WriteString(Compact(Added, AddressFamily.InterNetwork));
        e.WriteString("added.f"u8);
        e.WriteString(Flags(Added, AddressFamily.InterNetwork));
        e.WriteString("added6"u8);
        e.WriteString(Compact(Added, AddressFamily.InterNetworkV6));
        e.WriteString("added6.f"u8);
        e.WriteString(Flags(Added, AddressFamily.InterNetworkV6));
        e.WriteString("dropped"u8);
        e.WriteString(Compact(Dropped, AddressFamily.InterNetwork));
        e.WriteString("dropped6"u8);
        e.WriteString(Compact(Dropped, AddressFamily.InterNetworkV6));
        e.WriteEnd();
    }

    private static bool TryReadPeers(ReadOnlySpan<byte> compact, ReadOnlySpan<byte> flags, int addressLength, List<PexPeer> peers)
    {
        int size = addressLength + 2;
        if (compact.Length % size != 0 || peers.Count + (compact.Length / size) > MaxPeersPerList * 2)
        {
            return false;
        }

        for (int i = 0; i < compact.Length / size; i++)
        {
            ReadOnlySpan<byte> entry = compact.Slice(i * size, size);
            var address = new IPAddress(entry[..addressLength]);
            int port = BinaryPrimitives.ReadUInt16BigEndian(entry[addressLength..]);
            PexFlags flag = i < flags.Length ? (PexFlags)flags[i] : PexFlags.None;
            peers.Add(new PexPeer(new IPEndPoint(address, port), flag));
        }

        return true;
    }

    private static byte[] Compact(List<PexPeer> peers, AddressFamily family)
    {
        int addressLength = family == AddressFamily.InterNetwork ? 4 : 16;
        List<PexPeer> matching = peers.FindAll(p => Normalize(p.EndPoint.Address).AddressFamily == family);
        byte[] bytes = new byte[matching.Count * (addressLength + 2)];
        for (int i = 0; i < matching.Count; i++)
        {
            Span<byte> entry = bytes.AsSpan(i * (addressLength + 2));
            Normalize(matching[i].EndPoint.Address).TryWriteBytes(entry, out _);
            BinaryPrimitives.WriteUInt16BigEndian(entry[addressLength..], (ushort)matching[i].EndPoint.Port);
        }

        return bytes;
    }

    private static byte[] Flags(List<PexPeer> peers, AddressFamily family) =>
        peers.Where(p => Normalize(p.EndPoint.Address).AddressFamily == family).Select(p => (byte)p.Flags).ToArray();

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}

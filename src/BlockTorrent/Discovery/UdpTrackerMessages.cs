using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace BlockTorrent.Discovery;

/// <summary>Encodes requests and decodes responses of the UDP tracker protocol (BEP 15). All integers are big-endian.</summary>
internal static class UdpTrackerMessages
{
    /// <summary>The magic connection id of a connect request.</summary>
    public const long ProtocolId = 0x41727101980;

    /// <summary>The size of a connect request and of a connect response.</summary>
    public const int ConnectLength = 16;

    /// <summary>The size of an announce request.</summary>
    public const int AnnounceRequestLength = 98;

    /// <summary>The size of an announce response before its peers.</summary>
    public const int AnnounceResponseHeaderLength = 20;

    /// <summary>The most info-hashes one scrape request carries (BEP 15: "up to about 74").</summary>
    public const int MaxScrapeHashes = 74;

    /// <summary>The size of a response header (action and transaction id).</summary>
    public const int HeaderLength = 8;

    /// <summary>Writes a connect request.</summary>
    /// <param name="destination">At least <see cref="ConnectLength"/> bytes.</param>
    /// <param name="transactionId">The transaction id.</param>
    /// <returns>The bytes written.</returns>
    public static int WriteConnect(Span<byte> destination, int transactionId)
    {
        BinaryPrimitives.WriteInt64BigEndian(destination, ProtocolId);
        BinaryPrimitives.WriteInt32BigEndian(destination[8..], (int)UdpTrackerAction.Connect);
        BinaryPrimitives.WriteInt32BigEndian(destination[12..], transactionId);
        return ConnectLength;
    }

    /// <summary>Writes an announce request.</summary>
    /// <param name="destination">At least <see cref="AnnounceRequestLength"/> bytes.</param>
    /// <param name="connectionId">The connection id from the connect response.</param>
    /// <param name="transactionId">The transaction id.</param>
    /// <param name="request">The announce (already validated).</param>
    /// <returns>The bytes written.</returns>
    public static int WriteAnnounce(Span<byte> destination, long connectionId, int transactionId, AnnounceRequest request)
    {
        BinaryPrimitives.WriteInt64BigEndian(destination, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(destination[8..], (int)UdpTrackerAction.Announce);
        BinaryPrimitives.WriteInt32BigEndian(destination[12..], transactionId);
        request.InfoHash20.CopyTo(destination[16..]);
        request.PeerId.Span.CopyTo(destination[36..]);
        BinaryPrimitives.WriteInt64BigEndian(destination[56..], request.Downloaded);
        BinaryPrimitives.WriteInt64BigEndian(destination[64..], request.Left);
        BinaryPrimitives.WriteInt64BigEndian(destination[72..], request.Uploaded);
        BinaryPrimitives.WriteInt32BigEndian(destination[80..], (int)request.Event);
        BinaryPrimitives.WriteInt32BigEndian(destination[84..], 0); // the IP field: let the tracker use the source address
        BinaryPrimitives.WriteUInt32BigEndian(destination[88..], request.Key);
        BinaryPrimitives.WriteInt32BigEndian(destination[92..], request.NumWant < 0 ? -1 : request.NumWant);
        BinaryPrimitives.WriteUInt16BigEndian(destination[96..], (ushort)request.Port);
        return AnnounceRequestLength;
    }

    /// <summary>Writes a scrape request.</summary>
    /// <param name="destination">At least 16 + 20 × the number of hashes bytes.</param>
    /// <param name="connectionId">The connection id.</param>
    /// <param name="transactionId">The transaction id.</param>
    /// <param name="infoHashes20">At most <see cref="MaxScrapeHashes"/> 20-byte hashes.</param>
    /// <returns>The bytes written.</returns>
    public static int WriteScrape(Span<byte> destination, long connectionId, int transactionId, IReadOnlyList<ReadOnlyMemory<byte>> infoHashes20)
    {
        BinaryPrimitives.WriteInt64BigEndian(destination, connectionId);
        BinaryPrimitives.WriteInt32BigEndian(destination[8..], (int)UdpTrackerAction.Scrape);
        BinaryPrimitives.WriteInt32BigEndian(destination[12..], transactionId);
        int offset = 16;
        foreach (ReadOnlyMemory<byte> hash in infoHashes20)
        {
            hash.Span.CopyTo(destination[offset..]);
            offset += 20;
        }

        return offset;
    }

    /// <summary>Reads the action and transaction id every response starts with.</summary>
    /// <param name="packet">The datagram.</param>
    /// <param name="action">The action.</param>
    /// <param name="transactionId">The transaction id.</param>
    /// <returns><see langword="false"/> when the datagram is shorter than a header.</returns>
    public static bool TryReadHeader(ReadOnlySpan<byte> packet, out UdpTrackerAction action, out int transactionId)
    {
        if (packet.Length < HeaderLength)
        {
            action = default;
            transactionId = 0;
            return false;
        }

        action = (UdpTrackerAction)BinaryPrimitives.ReadInt32BigEndian(packet);
        transactionId = BinaryPrimitives.ReadInt32BigEndian(packet[4..]);
        return true;
    }

    /// <summary>Reads the connection id of a connect response.</summary>
    /// <param name="packet">The datagram (header already checked).</param>
    /// <param name="connectionId">The connection id.</param>
    /// <returns><see langword="false"/> when the datagram is too short.</returns>
    public static bool TryReadConnect(ReadOnlySpan<byte> packet, out long connectionId)
    {
        connectionId = packet.Length >= ConnectLength ? BinaryPrimitives.ReadInt64BigEndian(packet[8..]) : 0;
        return packet.Length >= ConnectLength;
    }

    /// <summary>Reads an announce response.</summary>
    /// <param name="packet">The datagram (header already checked).</param>
    /// <param name="family">The family of the socket it came on: it decides the peer entry size (BEP 15).</param>
    /// <param name="maxPeers">The most peers to take.</param>
    /// <returns>The response, or <see langword="null"/> when the datagram is malformed.</returns>
    public static AnnounceResponse? ReadAnnounce(ReadOnlySpan<byte> packet, AddressFamily family, int maxPeers)
    {
        if (packet.Length < AnnounceResponseHeaderLength)
        {
            return null;
        }

        int interval = BinaryPrimitives.ReadInt32BigEndian(packet[8..]);
        int leechers = BinaryPrimitives.ReadInt32BigEndian(packet[12..]);
        int seeders = BinaryPrimitives.ReadInt32BigEndian(packet[16..]);
        ReadOnlySpan<byte> entries = packet[AnnounceResponseHeaderLength..];
        int entry = CompactPeers.EntryLength(family);

        // BEP 15 warns that packets may grow; ignore a trailing partial entry rather than refusing the answer.
        entries = entries[..(entries.Length - (entries.Length % entry))];
        var peers = new List<IPEndPoint>(Math.Min(entries.Length / entry, maxPeers));
        CompactPeers.TryRead(entries, family, peers, [], maxPeers);
        return new AnnounceResponse
        {
            Interval = TimeSpan.FromSeconds(Math.Max(interval, 0)),
            Leechers = leechers < 0 ? null : leechers,
            Seeders = seeders < 0 ? null : seeders,
            Peers = peers,
        };
    }

    /// <summary>Reads a scrape response.</summary>
    /// <param name="packet">The datagram (header already checked).</param>
    /// <param name="count">How many hashes were asked for.</param>
    /// <returns>The counters in request order (fewer when the tracker sent fewer).</returns>
    public static List<ScrapeStats> ReadScrape(ReadOnlySpan<byte> packet, int count)
    {
        var stats = new List<ScrapeStats>(count);
        for (int offset = HeaderLength; offset + 12 <= packet.Length && stats.Count < count; offset += 12)
        {
            stats.Add(new ScrapeStats(
                BinaryPrimitives.ReadInt32BigEndian(packet[offset..]),
                BinaryPrimitives.ReadInt32BigEndian(packet[(offset + 4)..]),
                BinaryPrimitives.ReadInt32BigEndian(packet[(offset + 8)..])));
        }

        return stats;
    }

    /// <summary>Reads the message of an error response, bounded and with control characters removed.</summary>
    /// <param name="packet">The datagram (header already checked).</param>
    /// <returns>The message.</returns>
    public static string ReadError(ReadOnlySpan<byte> packet) => TrackerText.Sanitize(packet[HeaderLength..]);
}

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace BlockTorrent.Discovery;

/// <summary>
/// The compact peer format: 4 address bytes and a 2-byte port for IPv4 (BEP 23), 16 and 2 for IPv6 (BEP 7),
/// all in network byte order. Used by HTTP and UDP trackers alike.
/// </summary>
internal static class CompactPeers
{
    /// <summary>The size of one IPv4 entry.</summary>
    public const int IPv4EntryLength = 6;

    /// <summary>The size of one IPv6 entry.</summary>
    public const int IPv6EntryLength = 18;

    /// <summary>Gets the size of an entry for an address family.</summary>
    /// <param name="family">IPv4 or IPv6.</param>
    /// <returns>6 or 18.</returns>
    public static int EntryLength(AddressFamily family) => family == AddressFamily.InterNetworkV6 ? IPv6EntryLength : IPv4EntryLength;

    /// <summary>
    /// Reads entries of one family into <paramref name="peers"/>, skipping port 0, unspecified addresses and duplicates
    /// already in <paramref name="seen"/>, and stopping once <paramref name="peers"/> holds <paramref name="maxPeers"/>.
    /// </summary>
    /// <param name="data">The concatenated entries.</param>
    /// <param name="family">The family of every entry.</param>
    /// <param name="peers">Receives the peers.</param>
    /// <param name="seen">The peers already read (from this or another family's list).</param>
    /// <param name="maxPeers">The bound on <paramref name="peers"/>' count.</param>
    /// <returns><see langword="false"/> when the length is not a multiple of the entry size.</returns>
    public static bool TryRead(ReadOnlySpan<byte> data, AddressFamily family, List<IPEndPoint> peers, HashSet<IPEndPoint> seen, int maxPeers)
    {
        int entry = EntryLength(family);
        if (data.Length % entry != 0)
        {
            return false;
        }

        for (int i = 0; i + entry <= data.Length && peers.Count < maxPeers; i += entry)
        {
            var address = new IPAddress(data.Slice(i, entry - 2));
            int port = BinaryPrimitives.ReadUInt16BigEndian(data.Slice(i + entry - 2, 2));
            if (port == 0 || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
            {
                continue;
            }

            var endPoint = new IPEndPoint(address, port);
            if (seen.Add(endPoint))
            {
                peers.Add(endPoint);
            }
        }

        return true;
    }

    /// <summary>Writes one entry in its family's format.</summary>
    /// <param name="peer">The peer; an IPv4-mapped IPv6 address is written as IPv4.</param>
    /// <param name="destination">Room for at least <see cref="EntryLength"/> bytes of the peer's family.</param>
    /// <returns>The bytes written.</returns>
    public static int Write(IPEndPoint peer, Span<byte> destination)
    {
        IPAddress address = Normalize(peer.Address);
        if (!address.TryWriteBytes(destination, out int written))
        {
            throw new ArgumentException("The destination is too small for a compact peer entry.", nameof(destination));
        }

        BinaryPrimitives.WriteUInt16BigEndian(destination[written..], (ushort)peer.Port);
        return written + 2;
    }

    /// <summary>Turns an IPv4-mapped IPv6 address (from a dual-mode socket) back into IPv4.</summary>
    /// <param name="address">The address.</param>
    /// <returns>The IPv4 address, or <paramref name="address"/> itself.</returns>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}

using System.Net;

namespace BlockTorrent.Swarm;

/// <summary>Facts about peer addresses the swarm's limits and filters share.</summary>
internal static class PeerAddress
{
    /// <summary>Gets the address as trackers and PEX name it: a dual-mode socket reports IPv4 peers as ::ffff:a.b.c.d.</summary>
    /// <param name="address">The address.</param>
    /// <returns>The IPv4 address for an IPv4-mapped one, else the address itself.</returns>
    public static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>
    /// Gets whether a connection comes from this machine: both its ends have the same address (another process
    /// here reaching our address). The TCP handshake makes the remote address genuine, so no other host can claim it.
    /// </summary>
    /// <param name="local">The connection's local end.</param>
    /// <param name="remote">The connection's remote end.</param>
    /// <returns>Whether the two addresses are the same.</returns>
    public static bool IsSameHost(IPEndPoint? local, IPEndPoint? remote) =>
        local is not null && remote is not null && Normalize(local.Address).Equals(Normalize(remote.Address));

    /// <summary>
    /// Gets why a peer named to us must not be dialled, or null: never a multicast, broadcast or unspecified address
    /// or port 0, never our own listen endpoint, and never a loopback address named by a host (a peer, a tracker) that is
    /// not itself on loopback (another host naming our loopback can only mean to make us dial ourselves or this
    /// machine's services; a host on loopback runs here, and the loopback peers it names do too).
    /// </summary>
    /// <param name="peer">The peer named.</param>
    /// <param name="source">
    /// The address of the host that named it: a peer (PEX), a tracker (which names loopback peers only to requesters
    /// on its own machine), an LSD announcer (which names only itself); null for a peer the user named.
    /// </param>
    /// <param name="listenPort">Our listen port.</param>
    /// <returns>The reason, or null.</returns>
    public static string? Rejects(IPEndPoint peer, IPAddress? source, int listenPort)
    {
        IPAddress address = Normalize(peer.Address);
        if (peer.Port == 0)
        {
            return "port 0";
        }

        if (address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast) || IsMulticast(address))
        {
            return "not a unicast address";
        }

        bool loopback = IPAddress.IsLoopback(address);
        if (loopback && peer.Port == listenPort)
        {
            return "our own endpoint";
        }

        return loopback && source is not null && !IPAddress.IsLoopback(Normalize(source)) ? "a loopback address named by another host" : null;
    }

    private static bool IsMulticast(IPAddress address)
    {
        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return address.IsIPv6Multicast;
        }

        Span<byte> bytes = stackalloc byte[4];
        return address.TryWriteBytes(bytes, out _) && (bytes[0] >= 224 || bytes[0] == 0);
    }
}

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
}

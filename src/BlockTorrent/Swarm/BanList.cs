using System.Net;

namespace BlockTorrent.Swarm;

/// <summary>
/// The peers a swarm refuses after they sent corrupt pieces. A ban names the peer (its peer id, the endpoint it
/// connected from and the one it listens on), not its whole address: every peer on one machine (loopback: tests, the
/// demo, a depot and its targets) or behind one NAT shares an address, and banning the address would ban the honest
/// ones with the liar. A non-loopback address is banned whole once <see cref="IdentitiesPerAddress"/> distinct peers
/// from it were banned, so a liar that comes back under a new peer id costs one more round of failed pieces, not
/// one per id. Loopback addresses are never banned whole: they are this machine.
/// </summary>
/// <remarks>Not thread-safe: the swarm calls it under its lock.</remarks>
internal sealed class BanList
{
    /// <summary>How many distinct banned peers make a non-loopback address banned whole.</summary>
    public const int IdentitiesPerAddress = 2;

    private readonly HashSet<string> _peerIds = [];
    private readonly HashSet<IPEndPoint> _endPoints = [];
    private readonly Dictionary<IPAddress, int> _perAddress = [];
    private readonly HashSet<IPAddress> _addresses = [];

    /// <summary>Bans a peer.</summary>
    /// <param name="remote">The endpoint it is connected from.</param>
    /// <param name="listen">Where it accepts connections, when known.</param>
    /// <param name="peerId">Its peer id.</param>
    /// <returns><see langword="true"/> when its whole address is banned now.</returns>
    public bool Ban(IPEndPoint remote, IPEndPoint? listen, ReadOnlySpan<byte> peerId)
    {
        _peerIds.Add(Convert.ToHexString(peerId));
        _endPoints.Add(Normalize(remote));
        if (listen is not null)
        {
            _endPoints.Add(Normalize(listen));
        }

        IPAddress address = Normalize(remote.Address);
        if (IPAddress.IsLoopback(address))
        {
            return false;
        }

        int count = _perAddress[address] = _perAddress.GetValueOrDefault(address) + 1;
        return count >= IdentitiesPerAddress && _addresses.Add(address);
    }

    /// <summary>Gets whether we must not connect to an endpoint (before we know who answers there).</summary>
    /// <param name="endPoint">The endpoint.</param>
    /// <returns><see langword="true"/> when the endpoint or its address is banned.</returns>
    public bool IsBanned(IPEndPoint endPoint) =>
        _endPoints.Count > 0 && (_endPoints.Contains(Normalize(endPoint)) || _addresses.Contains(Normalize(endPoint.Address)));

    /// <summary>Gets whether a connected peer is banned: by its id, its endpoint or its address.</summary>
    /// <param name="remote">The endpoint it connected from (or we connected to).</param>
    /// <param name="peerId">The peer id from its handshake.</param>
    /// <returns><see langword="true"/> when it must be refused.</returns>
    public bool IsBanned(IPEndPoint remote, ReadOnlySpan<byte> peerId) =>
        IsBanned(remote) || (_peerIds.Count > 0 && _peerIds.Contains(Convert.ToHexString(peerId)));

    // A dual-mode socket reports IPv4 peers as ::ffff:a.b.c.d; trackers and PEX name them as a.b.c.d.
    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static IPEndPoint Normalize(IPEndPoint endPoint) =>
        endPoint.Address.IsIPv4MappedToIPv6 ? new IPEndPoint(endPoint.Address.MapToIPv4(), endPoint.Port) : endPoint;
}

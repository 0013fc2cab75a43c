namespace BlockTorrent.Discovery;

/// <summary>How Local Service Discovery (BEP 14) finds peers on the local network by multicast.</summary>
public sealed class LocalPeerDiscoveryOptions
{
    /// <summary>Gets the options with every default.</summary>
    public static LocalPeerDiscoveryOptions Default { get; } = new();

    /// <summary>
    /// Gets the names of the network interfaces to announce and listen on (for example <c>eth0</c>).
    /// Empty means every interface that is up, supports multicast and is not a loopback.
    /// </summary>
    /// <value>The default is empty (all suitable interfaces).</value>
    public IList<string> Interfaces { get; } = [];

    /// <summary>Gets or sets a value indicating whether to use the IPv4 group 239.192.152.143.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool UseIPv4 { get; set; } = true;

    /// <summary>Gets or sets a value indicating whether to use the IPv6 group ff15::efc0:988f.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool UseIPv6 { get; set; } = true;

    /// <summary>Gets or sets the UDP port of the multicast groups. Every LSD client uses 6771; change it only for tests.</summary>
    /// <value>The default is 6771.</value>
    public int Port { get; set; } = 6771;

    /// <summary>Gets or sets how often each torrent is announced again (BEP 14: every 5 minutes).</summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan AnnounceInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets the shortest time between two announce rounds, however many torrents start
    /// (BEP 14: no more than one announce per minute, to avoid multicast storms).
    /// </summary>
    /// <value>The default is 1 minute.</value>
    public TimeSpan MinAnnounceInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets how often the interfaces are scanned again for ones that gained or lost an address, besides the
    /// scans the system's network change notifications trigger (at most one a second).
    /// </summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan InterfaceRescanInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the multicast time-to-live: 1 keeps announces on the local link.</summary>
    /// <value>The default is 1.</value>
    public int TimeToLive { get; set; } = 1;

    /// <summary>Gets or sets the most received announces handled per second; the excess is dropped.</summary>
    /// <value>The default is 200.</value>
    public int MaxReceivedPerSecond { get; set; } = 200;

    /// <summary>Throws when a value is out of its range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of its range, named in the message.</exception>
    /// <exception cref="ArgumentException">Neither IPv4 nor IPv6 is enabled.</exception>
    public void Validate()
    {
        if (!UseIPv4 && !UseIPv6)
        {
            throw new ArgumentException("Local peer discovery needs IPv4, IPv6 or both.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Port, 1, nameof(Port));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535, nameof(Port));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(AnnounceInterval, TimeSpan.Zero, nameof(AnnounceInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(MinAnnounceInterval, TimeSpan.Zero, nameof(MinAnnounceInterval));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MinAnnounceInterval, AnnounceInterval, nameof(MinAnnounceInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(InterfaceRescanInterval, TimeSpan.Zero, nameof(InterfaceRescanInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(TimeToLive, 1, nameof(TimeToLive));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(TimeToLive, 255, nameof(TimeToLive));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxReceivedPerSecond, 1, nameof(MaxReceivedPerSecond));
        foreach (string name in Interfaces)
        {
            if (string.IsNullOrWhiteSpace(name))
            {
                throw new ArgumentException("An interface name in Interfaces is empty.");
            }
        }
    }
}

namespace BlockTorrent.Discovery;

/// <summary>How BlockTorrent talks to HTTP (BEP 3) and UDP (BEP 15) trackers.</summary>
public sealed class TrackerClientOptions
{
    /// <summary>Gets the options with every default.</summary>
    public static TrackerClientOptions Default { get; } = new();

    /// <summary>Gets or sets the bound on one HTTP tracker request, connection included.</summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan HttpRequestTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how long a UDP tracker request waits for its answer before the first retransmission.
    /// BEP 15 doubles the wait after every retransmission (15 s, 30 s, 60 s…).
    /// </summary>
    /// <value>The default is 15 seconds, as BEP 15 specifies.</value>
    public TimeSpan UdpRetransmitTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Gets or sets how many times a UDP request is retransmitted before the tracker counts as unreachable.</summary>
    /// <value>The default is 8 (the last wait is 15 s × 2⁸ = 3840 s, as BEP 15 specifies).</value>
    public int UdpMaxRetransmissions { get; set; } = 8;

    /// <summary>Gets or sets the largest HTTP tracker response accepted; a larger one is refused unread.</summary>
    /// <value>The default is 1 MiB.</value>
    public int MaxResponseBytes { get; set; } = 1 << 20;

    /// <summary>Gets or sets the most peers taken from one tracker response; the rest are ignored.</summary>
    /// <value>The default is 1000.</value>
    public int MaxPeersPerResponse { get; set; } = 1000;

    /// <summary>Throws when a value is out of its range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of its range, named in the message.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HttpRequestTimeout, TimeSpan.Zero, nameof(HttpRequestTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(UdpRetransmitTimeout, TimeSpan.Zero, nameof(UdpRetransmitTimeout));
        ArgumentOutOfRangeException.ThrowIfNegative(UdpMaxRetransmissions, nameof(UdpMaxRetransmissions));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(UdpMaxRetransmissions, 16, nameof(UdpMaxRetransmissions));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxResponseBytes, 64, nameof(MaxResponseBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPeersPerResponse, 1, nameof(MaxPeersPerResponse));
    }
}

using System.Net;
using BlockTorrent.Manifest;

namespace BlockTorrent.Discovery;

/// <summary>Settings of an <see cref="EmbeddedTracker"/>.</summary>
public sealed class EmbeddedTrackerOptions
{
    /// <summary>
    /// Gets or sets the address and port to listen on. <see cref="IPAddress.IPv6Any"/> listens on IPv4 and IPv6;
    /// port 0 picks a free port (read it from <see cref="EmbeddedTracker.LocalEndPoint"/>).
    /// </summary>
    /// <value>The default is [::]:6969, every address on the conventional tracker port.</value>
    public IPEndPoint ListenEndPoint { get; set; } = new(IPAddress.IPv6Any, 6969);

    /// <summary>
    /// Gets or sets the host name or address other machines reach the tracker by, used in
    /// <see cref="EmbeddedTracker.AnnounceUri"/>. <see langword="null"/> uses the listen address, or the machine's
    /// host name when listening on every address.
    /// </summary>
    /// <value>The default is <see langword="null"/>.</value>
    public string? AdvertisedHost { get; set; }

    /// <summary>Gets or sets the interval between announces the tracker asks peers for.</summary>
    /// <value>The default is 2 minutes (a deployment is short-lived; peers should learn of newcomers soon).</value>
    public TimeSpan AnnounceInterval { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Gets or sets the shortest interval between announces the tracker asks for.</summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan MinAnnounceInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long a peer stays listed without announcing again; it must exceed <see cref="AnnounceInterval"/>.</summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan PeerTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Gets or sets how many peers an announce returns when it does not say (<c>numwant</c>).</summary>
    /// <value>The default is 50.</value>
    public int DefaultNumWant { get; set; } = 50;

    /// <summary>Gets or sets the most peers one announce returns, whatever it asks for.</summary>
    /// <value>The default is 200.</value>
    public int MaxNumWant { get; set; } = 200;

    /// <summary>Gets or sets the most torrents tracked; announces for further torrents are refused.</summary>
    /// <value>The default is 1000.</value>
    public int MaxTorrents { get; set; } = 1000;

    /// <summary>Gets or sets the most peers tracked per torrent; further peers get peers but are not listed.</summary>
    /// <value>The default is 5000.</value>
    public int MaxPeersPerTorrent { get; set; } = 5000;

    /// <summary>
    /// Gets or sets the most peers listed per torrent from one address; further ports of that address get peers but
    /// are not listed, so one host cannot crowd out the others a requester is given.
    /// </summary>
    /// <value>The default is 16.</value>
    public int MaxPeersPerAddress { get; set; } = 16;

    /// <summary>
    /// Gets or sets the most connections served at once from one address; further ones are closed at once, so one
    /// host holding idle connections cannot take every one of <see cref="MaxConnections"/>.
    /// </summary>
    /// <value>The default is 8.</value>
    public int MaxConnectionsPerAddress { get; set; } = 8;

    /// <summary>
    /// Gets or sets how many requests one address may make at once after a quiet spell; beyond it, requests are
    /// served at <see cref="RequestsPerAddressPerSecond"/> and the rest answered 429 with a failure reason.
    /// </summary>
    /// <value>The default is 60.</value>
    public int RequestBurstPerAddress { get; set; } = 60;

    /// <summary>Gets or sets how many requests per second one address may make in the long run.</summary>
    /// <value>The default is 2 (a peer announces every <see cref="AnnounceInterval"/>; a fleet behind one address still fits).</value>
    public double RequestsPerAddressPerSecond { get; set; } = 2;

    /// <summary>
    /// Gets or sets a value indicating whether only the torrents in <see cref="AllowedInfoHashes"/> (and those
    /// <see cref="EmbeddedTracker.AllowTorrent"/> adds) are tracked, even when there are none yet. When
    /// <see langword="false"/>, an empty <see cref="AllowedInfoHashes"/> means any torrent.
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool OnlyAllowedTorrents { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether loopback addresses are exempt from the per-address limits
    /// (<see cref="MaxPeersPerAddress"/>, <see cref="MaxConnectionsPerAddress"/>, the request rate): they are this
    /// machine's own peers (the seed beside the tracker, a demo's targets), never a host on the LAN. Tests turn it off
    /// to play several hosts on 127.0.0.0/8.
    /// </summary>
    internal bool ExemptLoopback { get; set; } = true;

    /// <summary>Gets or sets the largest HTTP request head accepted; a larger one is answered 431 and closed.</summary>
    /// <value>The default is 8 KiB.</value>
    public int MaxRequestBytes { get; set; } = 8 * 1024;

    /// <summary>Gets or sets how long a connection may take to send its request; a slower one is closed.</summary>
    /// <value>The default is 10 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Gets or sets the most connections served at once; further ones wait in the listen backlog.</summary>
    /// <value>The default is 256.</value>
    public int MaxConnections { get; set; } = 256;

    /// <summary>
    /// Gets or sets a value indicating whether a peer may name its address with the <c>ip</c> parameter instead of
    /// the connection's source address (useful behind NAT, but lets anyone list any address).
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool AcceptIpParameter { get; set; }

    /// <summary>
    /// Gets the torrents the tracker serves; empty means any torrent (up to <see cref="MaxTorrents"/>) unless
    /// <see cref="OnlyAllowedTorrents"/> is set.
    /// </summary>
    /// <value>The default is empty.</value>
    public ICollection<InfoHash> AllowedInfoHashes { get; } = [];

    /// <summary>Throws when a value is out of its range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A value is out of its range, named in the message.</exception>
    /// <exception cref="ArgumentException">The listen end point is missing.</exception>
    public void Validate()
    {
        if (ListenEndPoint is null)
        {
            throw new ArgumentException("ListenEndPoint is required.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(AnnounceInterval, TimeSpan.FromSeconds(1), nameof(AnnounceInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(MinAnnounceInterval, TimeSpan.Zero, nameof(MinAnnounceInterval));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MinAnnounceInterval, AnnounceInterval, nameof(MinAnnounceInterval));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(PeerTimeout, AnnounceInterval, nameof(PeerTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(DefaultNumWant, 0, nameof(DefaultNumWant));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxNumWant, DefaultNumWant, nameof(MaxNumWant));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxTorrents, 1, nameof(MaxTorrents));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPeersPerTorrent, 1, nameof(MaxPeersPerTorrent));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRequestBytes, 512, nameof(MaxRequestBytes));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxRequestBytes, 1 << 20, nameof(MaxRequestBytes));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RequestTimeout, TimeSpan.Zero, nameof(RequestTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnections, 1, nameof(MaxConnections));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPeersPerAddress, 1, nameof(MaxPeersPerAddress));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxConnectionsPerAddress, 1, nameof(MaxConnectionsPerAddress));
        ArgumentOutOfRangeException.ThrowIfLessThan(RequestBurstPerAddress, 1, nameof(RequestBurstPerAddress));
        if (!(RequestsPerAddressPerSecond > 0) || double.IsInfinity(RequestsPerAddressPerSecond))
        {
            throw new ArgumentOutOfRangeException(nameof(RequestsPerAddressPerSecond), RequestsPerAddressPerSecond, "The request rate must be a positive number.");
        }
    }
}

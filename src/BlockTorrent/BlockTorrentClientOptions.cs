using System.Net;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Discovery;

namespace BlockTorrent;

/// <summary>Settings for a <c>BlockTorrentClient</c>: how it listens, how many peers it keeps and how it requests and uploads.</summary>
/// <remarks>The defaults suit a LAN or a machine room: everyone is unchoked and the request pipeline is deep.</remarks>
public sealed class BlockTorrentClientOptions
{
    /// <summary>The longest congestion control name the kernel takes (its TCP_CA_NAME_MAX less the terminating zero).</summary>
    internal const int MaxCongestionControlNameLength = 15;

    /// <summary>Gets or sets where the client accepts peer connections. Port 0 picks a free port.</summary>
    /// <value>The default is 0.0.0.0:6881.</value>
    public IPEndPoint ListenEndPoint { get; set; } = new(IPAddress.Any, 6881);

    /// <summary>Gets or sets the start of the 20-byte peer id (Azureus style); the rest is random.</summary>
    /// <value>The default is <c>-BT0100-</c>.</value>
    public string PeerIdPrefix { get; set; } = "-BT0100-";

    /// <summary>Gets or sets the most peer connections per torrent.</summary>
    /// <value>The default is 200.</value>
    public int MaxConnectionsPerTorrent { get; set; } = 200;

    /// <summary>Gets or sets the most peers unchoked (uploaded to) at once per torrent; 0 means no limit.</summary>
    /// <value>The default is 0 (no limit).</value>
    public int MaxUploads { get; set; }

    /// <summary>Gets or sets how the client decides which interested peers it uploads to.</summary>
    /// <value>The default is <see cref="ChokingMode.UnchokeAll"/>.</value>
    public ChokingMode ChokingMode { get; set; } = ChokingMode.UnchokeAll;

    /// <summary>Gets or sets how much transfer time the request pipeline to each peer should cover (rate × this ÷ 16 KiB requests).</summary>
    /// <value>The default is half a second.</value>
    /// <remarks>
    /// The pipeline must cover a peer's round trip, and it always covers at least twice the round trip the kernel
    /// measures for the connection (on Linux; elsewhere this setting alone), so a peer farther away than this is not
    /// starved. Deeper is not free: an uploader answers requests in order, so every request waits behind this much of
    /// our own queue, and a piece that just appeared in the swarm takes that long per hop to spread. Where no round
    /// trip is measured, raise it for slow, high-latency Internet peers (libtorrent's default is 3 s).
    /// </remarks>
    public TimeSpan RequestQueueTime { get; set; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Gets or sets the most requests outstanding to one peer (further limited by the peer's own <c>reqq</c>).</summary>
    /// <value>The default is 500.</value>
    public int MaxRequestQueueDepth { get; set; } = 500;

    /// <summary>Gets or sets how long a peer may leave our requests unanswered before they are given to other peers.</summary>
    /// <value>The default is 15 seconds.</value>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Gets or sets the TCP congestion control algorithm of peer connections, by its Linux name (<c>cubic</c>,
    /// <c>reno</c>, <c>bbr</c>, …), or <see langword="null"/> for the system's default. Linux only.
    /// </summary>
    /// <value>The default is <see langword="null"/> (the system's default, <c>net.ipv4.tcp_congestion_control</c>).</value>
    /// <remarks>
    /// When many targets send to one at once (every target re-shares what it has), the switch port in front of the
    /// receiver drops packets. Loss-based algorithms such as <c>cubic</c> (Linux's usual default) back off and keep
    /// drops rare; BBR v1 largely ignores loss and, on a shallow switch buffer, can retransmit several per cent of
    /// everything it sends. Set this when the machines' default does not suit the imaging network. The kernel must
    /// offer the algorithm (<c>/proc/sys/net/ipv4/tcp_available_congestion_control</c>); one outside
    /// <c>tcp_allowed_congestion_control</c> needs CAP_NET_ADMIN. A refused algorithm fails the client's construction
    /// with the list the kernel offers.
    /// </remarks>
    public string? TcpCongestionControl { get; set; }

    /// <summary>Gets or sets how many failed pieces a peer may send (as their only source) before it is banned.</summary>
    /// <value>The default is 3.</value>
    public int MaxHashFailuresPerPeer { get; set; } = 3;

    /// <summary>Gets or sets the size of the image extents a peer's consecutive pieces are taken from, so writes stay large.</summary>
    /// <value>The default is 4 MiB.</value>
    public int ExtentSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>Gets or sets the most memory, in bytes, used to cache device reads when serving peers.</summary>
    /// <value>The default is 64 MiB.</value>
    public long ReadCacheSize { get; set; } = 64L * 1024 * 1024;

    /// <summary>Gets or sets the most memory, in bytes, held by pieces being downloaded (the writer's in-flight budget).</summary>
    /// <value>The default is 64 MiB.</value>
    public long DownloadMemory { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Gets or sets a value indicating whether deployments, seeds and magnet fetches find and announce peers by Local
    /// Service Discovery (BEP 14), unless their own options say otherwise. Private torrents (BEP 27) never use it.
    /// </summary>
    /// <remarks>
    /// When enabled, the constructor joins the LSD multicast groups (239.192.152.143 and ff15::efc0:988f, UDP port
    /// 6771, time-to-live 1, so announces stay on the local link) on every interface that is up, supports multicast
    /// and is not a loopback, or on those named in <see cref="LocalPeerDiscovery"/>; the sockets and the interface
    /// list are taken then, in the constructing thread's network namespace. When disabled here but asked for by a
    /// call (<c>UseLocalPeerDiscovery</c>), the groups are joined by that call, on its calling thread. Each torrent is
    /// announced when it starts and every 5 minutes, at most one round a minute (BEP 14), and the peers heard are
    /// connected to like any others. Off by default: multicast leaves the machine, which a library should not do
    /// unless asked.
    /// </remarks>
    /// <value>The default is <see langword="false"/>.</value>
    public bool EnableLocalPeerDiscovery { get; set; }

    /// <summary>Gets or sets how Local Service Discovery runs (interfaces, groups, intervals) when it is used.</summary>
    /// <value>The default is <see langword="null"/>: <see cref="LocalPeerDiscoveryOptions.Default"/>.</value>
    public LocalPeerDiscoveryOptions? LocalPeerDiscovery { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether peers are exchanged with other peers (BEP 11 ut_pex, never for private
    /// torrents): peers they name become candidates to connect to, and once a minute each peer is told which of our
    /// peers joined or left since.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool EnablePeerExchange { get; set; } = true;

    /// <summary>
    /// Gets or sets the certificate, with its private key, this client presents in TLS swarms: those whose manifest
    /// names a swarm authority (<see cref="Manifest.TorrentManifest.SwarmAuthority"/>, libtorrent's SSL torrents). Its
    /// authority must be the swarm's, and it must name the torrent or <c>*</c> (see
    /// <see cref="Manifest.SwarmCertificates"/>). Manifests without an authority ignore it. The caller keeps ownership.
    /// </summary>
    /// <value>The default is <see langword="null"/>: deploying or seeding a TLS torrent fails.</value>
    public X509Certificate2? PeerCertificate { get; set; }

    /// <summary>
    /// Gets or sets the most this client uploads, in bytes per second, over all its deployments and seeds together
    /// (BitTorrent messages with their block data): one token bucket is shared by every connection, and each block
    /// is sent when the bucket allows. Accurate to within a few percent over seconds; a full bucket lets the first
    /// tenth of a second's worth (at least 64 KiB) go at once.
    /// </summary>
    /// <value>The default is 0: no limit.</value>
    public long MaxUploadRate { get; set; }

    /// <summary>
    /// Gets or sets the most this client downloads, in bytes per second, over all its deployments together (from
    /// peers and web seeds): blocks are requested only as fast as one shared token bucket allows, so the rate is set
    /// by what we ask for rather than by leaving data unread in the kernel.
    /// </summary>
    /// <value>The default is 0: no limit.</value>
    public long MaxDownloadRate { get; set; }

    /// <summary>
    /// Gets or sets the handler web seed requests go through, for instance one that checks an https depot's pinned
    /// certificate. The caller keeps ownership.
    /// </summary>
    /// <value>The default is <see langword="null"/>: a handler of the client's own, checking https servers against the machine's certificate authorities.</value>
    public HttpMessageHandler? WebSeedHandler { get; set; }

    /// <summary>Gets or sets how often peers are told about our peers (BEP 11 asks for at most once a minute); tests shorten it.</summary>
    internal TimeSpan PeerExchangeInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        if (ListenEndPoint is null)
        {
            throw new ArgumentException($"{nameof(ListenEndPoint)} must be set.", nameof(ListenEndPoint));
        }

        if (PeerIdPrefix is null || PeerIdPrefix.Length > 12 || PeerIdPrefix.Any(c => c > 0x7F))
        {
            throw new ArgumentException($"{nameof(PeerIdPrefix)} must be at most 12 ASCII characters.", nameof(PeerIdPrefix));
        }

        if (TcpCongestionControl is not null)
        {
            if (!OperatingSystem.IsLinux())
            {
                throw new ArgumentException($"{nameof(TcpCongestionControl)} is only supported on Linux; leave it null elsewhere.", nameof(TcpCongestionControl));
            }

            if (TcpCongestionControl.Length is 0 or > MaxCongestionControlNameLength || !TcpCongestionControl.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            {
                throw new ArgumentException($"{nameof(TcpCongestionControl)} must be an algorithm name of 1 to {MaxCongestionControlNameLength} letters, digits or underscores, such as cubic; '{TcpCongestionControl}' is not.", nameof(TcpCongestionControl));
            }
        }

        Check(MaxConnectionsPerTorrent >= 1, nameof(MaxConnectionsPerTorrent), "at least 1");
        Check(MaxUploads >= 0, nameof(MaxUploads), "0 (no limit) or more");
        Check(Enum.IsDefined(ChokingMode), nameof(ChokingMode), "a defined ChokingMode");
        Check(RequestQueueTime > TimeSpan.Zero, nameof(RequestQueueTime), "positive");
        Check(MaxRequestQueueDepth is >= 1 and <= 10_000, nameof(MaxRequestQueueDepth), "between 1 and 10000");
        Check(RequestTimeout > TimeSpan.Zero, nameof(RequestTimeout), "positive");
        Check(MaxHashFailuresPerPeer >= 1, nameof(MaxHashFailuresPerPeer), "at least 1");
        Check(ExtentSize >= 16 * 1024, nameof(ExtentSize), "at least 16 KiB");
        Check(ReadCacheSize >= 0, nameof(ReadCacheSize), "0 or more");
        Check(DownloadMemory >= 1024 * 1024, nameof(DownloadMemory), "at least 1 MiB");
        Check(MaxUploadRate >= 0, nameof(MaxUploadRate), "0 (no limit) or more");
        Check(MaxDownloadRate >= 0, nameof(MaxDownloadRate), "0 (no limit) or more");
        LocalPeerDiscovery?.Validate();
    }

    private static void Check(bool ok, string name, string rule)
    {
        if (!ok)
        {
            throw new ArgumentException($"{name} must be {rule}.", name);
        }
    }
}

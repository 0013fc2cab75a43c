namespace BlockTorrent.Service.Options;

/// <summary>
/// The service's settings, bound from the <c>BlockTorrent</c> section of appsettings.json (or environment variables
/// such as <c>BlockTorrent__Role=Target</c>), and checked when the service starts.
/// </summary>
internal sealed class ImagingServiceOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "BlockTorrent";

    /// <summary>Gets or sets what this instance does: <c>Depot</c> or <c>Target</c> (kept as text so a typo gets a clear message at start).</summary>
    /// <value>No default: it must be configured.</value>
    public string? Role { get; set; }

    /// <summary>Gets the role <see cref="Role"/> names, or <see cref="ServiceRole.None"/>.</summary>
    public ServiceRole ParsedRole => ImagingServiceOptionsValidator.ParseRole(Role);

    /// <summary>Gets or sets where BitTorrent peers connect (ADDR:PORT); port 0 picks a free port.</summary>
    /// <value>The default is <c>0.0.0.0:6881</c>.</value>
    public string Listen { get; set; } = "0.0.0.0:6881";

    /// <summary>Gets or sets where the HTTP status endpoint (<c>GET /status</c>) is answered (ADDR:PORT).</summary>
    /// <value>The default is <c>127.0.0.1:8580</c>: this machine only (a depot serves its manifests to every machine on the same port, <see cref="DepotOptions.Manifests"/>).</value>
    public string Status { get; set; } = "127.0.0.1:8580";

    /// <summary>
    /// Gets or sets where the Prometheus scrape endpoint (<c>GET /metrics</c>: the library's <c>BlockTorrent</c>
    /// meter through OpenTelemetry) is answered (ADDR:PORT); empty exports no metrics. It may share its port with
    /// <see cref="Status"/> and the depot's other paths.
    /// </summary>
    /// <value>The default is <c>127.0.0.1:8580</c>: this machine only; set <c>0.0.0.0:8580</c> for a Prometheus server elsewhere.</value>
    public string? Metrics { get; set; } = "127.0.0.1:8580";

    /// <summary>
    /// Gets or sets the secret the status, the metrics and a depot's fleet view ask for: requests there must carry
    /// <c>Authorization: Bearer TOKEN</c> (a browser opens <c>/fleet/?token=TOKEN</c> once and keeps it in a cookie).
    /// Required when <see cref="Status"/>, <see cref="Metrics"/> or <see cref="DepotOptions.Fleet"/> is bound beyond
    /// loopback. A depot with a token takes target reports (<c>POST /fleet/report</c>) only with it
    /// (<see cref="TargetOptions.ReportToken"/>); without one, only from its own machine. The depot's manifests never
    /// ask for it.
    /// </summary>
    /// <value>The default is <see langword="null"/>: no token, so the status, metrics and fleet view must stay on loopback, and only a target on the depot's machine reports.</value>
    public string? StatusToken { get; set; }

    /// <summary>Gets or sets a value indicating whether peers are found on the local network by Local Service Discovery (BEP 14).</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool LocalPeerDiscovery { get; set; }

    /// <summary>Gets or sets the folder for resume files and downloaded manifests.</summary>
    /// <value>The default is systemd's <c>$STATE_DIRECTORY</c>, else <c>/var/lib/blocktorrent</c> for root, else <c>~/.local/state/blocktorrent</c>.</value>
    public string? StateDirectory { get; set; }

    /// <summary>
    /// Gets or sets the most this service uploads, in bytes per second (10485760 is 10 MiB/s), over all its
    /// connections together: a depot's seeds, or a target passing pieces on.
    /// </summary>
    /// <value>The default is 0: no limit.</value>
    public long MaxUploadRate { get; set; }

    /// <summary>Gets or sets the most a target downloads, in bytes per second, over all its connections (peers and web seeds).</summary>
    /// <value>The default is 0: no limit.</value>
    public long MaxDownloadRate { get; set; }

    /// <summary>Gets the depot's settings (used when <see cref="Role"/> is <see cref="ServiceRole.Depot"/>).</summary>
    public DepotOptions Depot { get; } = new();

    /// <summary>Gets the target's settings (used when <see cref="Role"/> is <see cref="ServiceRole.Target"/>).</summary>
    public TargetOptions Target { get; } = new();
}

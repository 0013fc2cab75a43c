namespace BlockTorrent.Service.Options;

/// <summary>The target's settings (<c>BlockTorrent:Target</c>): which image goes onto which device.</summary>
internal sealed class TargetOptions
{
    /// <summary>The default <see cref="ScratchSize"/>: 256 MiB.</summary>
    public const long DefaultScratchSize = 256L * 1024 * 1024;

    /// <summary>The longest <see cref="SeedAfter"/>: the longest time a cancellation timer can count.</summary>
    public static readonly TimeSpan MaxSeedAfter = TimeSpan.FromDays(49);

    /// <summary>Gets or sets the image: a .torrent path, an http(s) URL of a .torrent (a depot serves them at <c>/images/NAME.torrent</c>), or a magnet link.</summary>
    /// <value>No default: it must be configured.</value>
    public string? Image { get; set; }

    /// <summary>
    /// Gets or sets the depot this target reports to (its base URL, <c>http://depot:8580</c>): every second it posts
    /// its state and progress to <c>/fleet/report</c> there, for the depot's fleet view and its events. Empty sends no
    /// reports.
    /// </summary>
    /// <value>The default is <see langword="null"/>: the depot whose http(s) <see cref="Image"/> URL this is (none for a file or a magnet link).</value>
    public string? ReportTo { get; set; }

    /// <summary>
    /// Gets or sets the depot's <c>StatusToken</c>, the fleet's shared secret, sent with every report and with the
    /// enrolment (<c>Authorization: Bearer</c>): a depot with a token takes no report nor enrolment without it, and a
    /// depot without one takes them from its own machine only, so nobody else on the network can add or change rows of
    /// its fleet view or get a swarm certificate. It is sent only over https unless <see cref="AllowPlainHttp"/> is set
    /// (and an enrolment only ever over https).
    /// </summary>
    /// <value>The default is <see langword="null"/>: reports carry no token (only a depot on this machine without a token takes them).</value>
    public string? ReportToken { get; set; }

    /// <summary>
    /// Gets or sets a PEM file of trusted keys (<c>PUBLIC KEY</c> or <c>CERTIFICATE</c> blocks): only a manifest
    /// signed by one of them is deployed; any other fails the target before the device is opened.
    /// </summary>
    /// <value>
    /// The default is <see langword="null"/>: for an https <see cref="Image"/> URL, the anchors the target got when it
    /// enrolled at the depot (<see cref="RequireSignature"/>); otherwise signatures are not required.
    /// </value>
    public string? Trust { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a target whose <see cref="Image"/> is an https URL, and that has no
    /// <see cref="Trust"/>, requires the manifest to be signed by the key its depot named when the target enrolled
    /// there (<c>POST /enroll</c> with <see cref="ReportToken"/>; the enrolment is kept in the state folder and reused).
    /// A depot that signs nothing, or offers no enrolment, then fails the target before its device is opened.
    /// </summary>
    /// <value>The default is <see langword="true"/>; <see langword="false"/> deploys unsigned manifests from an https depot (the target still enrols for a swarm certificate when it has none).</value>
    public bool RequireSignature { get; set; } = true;

    /// <summary>
    /// Gets or sets the info-hash (40 or 64 hexadecimal digits) the manifest must have; an http(s)
    /// <see cref="Image"/> URL may carry it instead as <c>#btih=HEX</c>. Another manifest fails the target before
    /// the device is opened.
    /// </summary>
    /// <value>The default is <see langword="null"/>: any info-hash.</value>
    public string? InfoHash { get; set; }

    /// <summary>Gets the pinned info-hash: <see cref="InfoHash"/>, else the <c>#btih=</c> of the image URL; <see langword="null"/> when neither is set or valid.</summary>
    public string? PinnedInfoHash
    {
        get
        {
            if (!string.IsNullOrWhiteSpace(InfoHash))
            {
                return InfoHash.Trim();
            }

            string? image = Image?.Trim();
            int fragment = image?.IndexOf("#btih=", StringComparison.OrdinalIgnoreCase) ?? -1;
            return fragment < 0 || image!.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase) ? null : image[(fragment + "#btih=".Length)..];
        }
    }

    /// <summary>
    /// Gets or sets a PEM file of certificates an https <see cref="Image"/> server must present: its own certificate
    /// (a depot's <c>depot-https.crt</c>), or a CA that issued its certificate for the URL's host name. With it (or
    /// <see cref="ServerFingerprint"/>), the machine's certificate authorities are not consulted; a server presenting
    /// anything else fails the target before the device is opened.
    /// </summary>
    /// <value>The default is <see langword="null"/>: the machine's certificate authorities decide.</value>
    public string? ServerCertificate { get; set; }

    /// <summary>
    /// Gets or sets the SHA-256 fingerprint (<c>SHA256:HEX</c>, as the depot logs it; several separated by commas) of
    /// the certificate an https <see cref="Image"/> server must present; see <see cref="ServerCertificate"/>.
    /// </summary>
    /// <value>The default is <see langword="null"/>.</value>
    public string? ServerFingerprint { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether a plain http <see cref="Image"/> URL is accepted although nothing
    /// else checks the manifest (no <see cref="Trust"/>, no pinned info-hash): anyone on the way could then hand the
    /// target another image.
    /// </summary>
    /// <value>The default is <see langword="false"/>: a plain http URL needs <see cref="Trust"/> or a pinned info-hash.</value>
    public bool AllowPlainHttp { get; set; }

    /// <summary>
    /// Gets or sets this target's peer certificate for a TLS swarm (a manifest naming a swarm authority,
    /// <c>ssl-cert</c>): PEM, issued by that authority (<c>blocktorrent tls issue</c>), its private key beside it as
    /// <c>NAME.key.pem</c> or in <see cref="TlsKey"/>. A TLS manifest without one, or with one its authority does not
    /// admit, fails the target before the device is opened.
    /// </summary>
    /// <value>The default is <see langword="null"/>: for an https <see cref="Image"/> URL, the certificate the depot issued when the target enrolled; otherwise only plain swarms can be deployed.</value>
    public string? TlsCertificate { get; set; }

    /// <summary>Gets or sets the PEM file of <see cref="TlsCertificate"/>'s private key, when it is not beside it as <c>NAME.key.pem</c>.</summary>
    /// <value>The default is <see langword="null"/>.</value>
    public string? TlsKey { get; set; }

    /// <summary>Gets or sets the device (<c>/dev/sdb</c>, <c>\\.\PhysicalDrive1</c>) or image file to write.</summary>
    /// <value>No default: it must be configured.</value>
    public string? Device { get; set; }

    /// <summary>Gets or sets the resume file, which lets a restarted service fetch only what is missing.</summary>
    /// <value>The default is <see langword="null"/>: next to an image file, or in the state directory for a device.</value>
    public string? ResumeFile { get; set; }

    /// <summary>Gets peers to connect to (ADDR:PORT), besides those the trackers return.</summary>
    public IList<string> Peers { get; } = [];

    /// <summary>Gets trackers to announce to (http(s) or udp URLs), besides the manifest's own.</summary>
    public IList<string> Trackers { get; } = [];

    /// <summary>Gets or sets how long the finished target seeds to other targets (at most <see cref="MaxSeedAfter"/>).</summary>
    /// <value>The default is <see langword="null"/>: seed until the service stops, or, with <see cref="StopWhenDone"/>, not at all.</value>
    public TimeSpan? SeedAfter { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the service stops itself (exit code 0) once the image is on the device:
    /// at once, or, when <see cref="SeedAfter"/> is set, after seeding that long.
    /// </summary>
    /// <value>The default is <see langword="false"/>: the service keeps running (seeding, and serving its status).</value>
    public bool StopWhenDone { get; set; }

    /// <summary>Gets how long the finished target seeds: <see cref="SeedAfter"/>; without it, until the service stops (<see cref="Timeout.InfiniteTimeSpan"/>), or not at all when it stops when done.</summary>
    public TimeSpan SeedingTime => SeedAfter ?? (StopWhenDone ? TimeSpan.Zero : Timeout.InfiniteTimeSpan);

    /// <summary>Gets or sets a value indicating whether every piece is read back and checked after the final flush.</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool Verify { get; set; }

    /// <summary>Gets or sets a value indicating whether the device refusals that may be overridden are overridden (never the running system's disk, nor the kernel's exclusive claim: the service always opens a device with O_EXCL).</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool Force { get; set; }

    /// <summary>Gets or sets how long to wait between attempts to get the manifest (a depot that is not up yet).</summary>
    /// <value>The default is 5 seconds.</value>
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets how long the deployment waits, with nothing arriving, while no usable peer holds the pieces it still
    /// needs, before it stops with a failure naming them (<c>DeployOptions.StallTimeout</c>);
    /// <see cref="Timeout.InfiniteTimeSpan"/> (<c>-00:00:00.001</c>) waits until the service stops.
    /// </summary>
    /// <value>The default is 60 seconds.</value>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Gets or sets how much of a compressed stream (an image kept as <c>.img.zst</c>, <c>.img.gz</c> or
    /// <c>.img.xz</c>) the target holds while its pieces wait for the decoder, in bytes; the same whatever the
    /// image's size. It must hold one piece of the stream. Raw images and seekable <c>.btz</c> images use none.
    /// </summary>
    /// <value>The default is 268435456 (256 MiB).</value>
    public long ScratchSize { get; set; } = DefaultScratchSize;

    /// <summary>
    /// Gets or sets a folder for a compressed stream's scratch: a sparse temporary file there, deleted afterwards,
    /// instead of memory. It must exist.
    /// </summary>
    /// <value>The default is <see langword="null"/>: scratch is held in memory.</value>
    public string? ScratchFolder { get; set; }
}

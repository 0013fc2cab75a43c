namespace BlockTorrent.Service.Options;

/// <summary>
/// The depot's settings (<c>BlockTorrent:Depot</c>). The depot seeds every image in <see cref="ImageFolder"/>: a file
/// <c>NAME</c> is an image when <c>NAME.torrent</c> lies beside it, or, with <see cref="CreateMissingManifests"/>,
/// when its name matches <see cref="ImagePattern"/> (the manifest is then created, announcing to the depot's tracker).
/// </summary>
internal sealed class DepotOptions
{
    /// <summary>Gets or sets the folder that holds the images and their manifests.</summary>
    /// <value>No default: it must be configured.</value>
    public string? ImageFolder { get; set; }

    /// <summary>Gets or sets which files are images when they have no manifest yet (a file-name pattern, <c>*</c> and <c>?</c>).</summary>
    /// <value>The default is <c>*.img</c>.</value>
    public string ImagePattern { get; set; } = "*.img";

    /// <summary>Gets or sets a value indicating whether a manifest (<c>IMAGE.torrent</c>, hybrid v1+v2) is created for an image that has none.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool CreateMissingManifests { get; set; } = true;

    /// <summary>
    /// Gets or sets where the depot serves its images' manifests (<c>GET /images/NAME.torrent</c>, ADDR:PORT, over
    /// HTTPS unless <see cref="Https"/> is off), so a target can be given
    /// <c>https://depot:8580/images/NAME.torrent</c>; empty serves none. It may share its port with
    /// <see cref="ImagingServiceOptions.Status"/>: the status is then still answered only on the status's own address.
    /// </summary>
    /// <value>The default is <c>0.0.0.0:8580</c>: every IPv4 address, so targets on other machines reach it.</value>
    public string? Manifests { get; set; } = "0.0.0.0:8580";

    /// <summary>
    /// Gets or sets a value indicating whether the manifests are served over HTTPS, so a target that checks the
    /// depot's certificate (<c>Target:ServerCertificate</c> or <c>Target:ServerFingerprint</c>) cannot be handed
    /// another manifest, and nobody on the way reads which images it takes.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Https { get; set; } = true;

    /// <summary>
    /// Gets or sets the HTTPS certificate: a PEM file (with its private key, or the key in <see cref="CertificateKey"/>)
    /// or a PKCS#12 file (<c>.pfx</c>, <c>.p12</c>) without a password.
    /// </summary>
    /// <value>
    /// The default is <see langword="null"/>: the depot makes a self-signed certificate the first time and keeps it
    /// in the state folder (<c>depot-https.crt</c>, its key in <c>depot-https.key</c>), logging its fingerprint.
    /// </value>
    public string? Certificate { get; set; }

    /// <summary>Gets or sets the PEM file of <see cref="Certificate"/>'s private key, when it is not in the certificate's file.</summary>
    /// <value>The default is <see langword="null"/>.</value>
    public string? CertificateKey { get; set; }

    /// <summary>
    /// Gets or sets where the depot shows its fleet (ADDR:PORT): <c>GET /fleet</c> (JSON, a row per target),
    /// <c>GET /fleet/</c> (the web page), <c>GET /fleet/events</c> (Server-Sent Events); empty shows none.
    /// </summary>
    /// <value>The default is <c>127.0.0.1:8580</c>: this machine only; set <c>0.0.0.0:8580</c> to watch from elsewhere.</value>
    public string? Fleet { get; set; } = "127.0.0.1:8580";

    /// <summary>
    /// Gets the URLs that get the fleet's hook events as JSON POSTs (<c>target-done</c>, <c>target-failed</c>,
    /// <c>image-deployed</c>; the event's name also in the <c>X-BlockTorrent-Event</c> header, its number in
    /// <c>X-BlockTorrent-Delivery</c>), each in order, retried when the receiver does not take it.
    /// </summary>
    /// <value>The default is none.</value>
    public IList<string> Webhooks { get; } = [];

    /// <summary>
    /// Gets or sets how many targets make a fleet: an image is announced deployed (<c>image-deployed</c>) once that
    /// many of its targets are done and none is still underway. With 0, it is announced whenever none of the targets
    /// the depot knows is underway and one is done, so targets that start late make a second announcement.
    /// </summary>
    /// <value>The default is 0.</value>
    public int FleetSize { get; set; }

    /// <summary>Gets or sets how many times a webhook delivery is tried in all (a failed connection, a time-out, 408, 429 or 5xx is tried again).</summary>
    /// <value>The default is 5.</value>
    public int WebhookAttempts { get; set; } = 5;

    /// <summary>Gets or sets how long the first retry of a webhook delivery waits; each later one waits twice as long as the one before.</summary>
    /// <value>The default is 2 seconds.</value>
    public TimeSpan WebhookRetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Gets or sets where the embedded tracker listens (ADDR:PORT); empty runs no tracker.</summary>
    /// <value>The default is <c>0.0.0.0:6969</c>.</value>
    public string? Tracker { get; set; } = "0.0.0.0:6969";

    /// <summary>
    /// Gets or sets a value indicating whether the embedded tracker tracks any torrent announced to it, not only the
    /// depot's own images (it then serves as the LAN's tracker for other swarms too).
    /// </summary>
    /// <value>The default is <see langword="false"/>: only the images the depot serves are tracked.</value>
    public bool TrackAnyTorrent { get; set; }

    /// <summary>Gets or sets the host name or address targets use to reach the tracker, written into created manifests.</summary>
    /// <value>The default is <see langword="null"/>: the tracker's address, or this machine's name when it listens on every address.</value>
    public string? TrackerHost { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the depot is a web seed (BEP 19) of its images: each image's bytes are
    /// served with HTTP range requests at <c>/images/NAME</c> beside its manifest, on <see cref="Manifests"/>, so a
    /// target that no peer can serve (alone, or on a VLAN where the targets cannot reach one another) fetches
    /// pieces over HTTP(S) and verifies them like any others. The bytes of an image whose manifest is a TLS swarm
    /// (<see cref="TlsSwarm"/>) are never served so: only the swarm's authority's peers get them.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool WebSeed { get; set; } = true;

    /// <summary>
    /// Gets or sets the web seed URL written into the manifests the depot creates (their <c>url-list</c>), such as
    /// <c>https://depot:8580/images/</c>: a URL ending in <c>/</c> is a folder, the image's name appended.
    /// </summary>
    /// <value>The default is <see langword="null"/>: created manifests name no web seed.</value>
    public string? WebSeedUrl { get; set; }

    /// <summary>
    /// Gets or sets the most the depot uploads of each image, in bytes per second, on top of the service's
    /// <see cref="ImagingServiceOptions.MaxUploadRate"/> over all of them.
    /// </summary>
    /// <value>The default is 0: no limit per image.</value>
    public long MaxUploadRatePerImage { get; set; }

    /// <summary>Gets or sets the piece size of created manifests in bytes; 0 picks one from the image size.</summary>
    /// <value>The default is 0.</value>
    public int PieceSize { get; set; }

    /// <summary>Gets or sets a value indicating whether each piece is checked against its manifest the first time it is served (an image changed after its manifest was made is then never served wrong).</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool VerifyReads { get; set; } = true;

    /// <summary>
    /// Gets or sets a value indicating whether the depot super-seeds (BEP 16): it offers each target a few pieces at a
    /// time, those the fewest targets hold, and sends a piece again only once the first pass is through, so it uploads
    /// each piece about once and the targets pass the pieces among themselves (on Linux it also evens out its upload
    /// among them). <see langword="true"/> super-seeds always, <see langword="false"/> never.
    /// </summary>
    /// <value>
    /// The default is <see langword="null"/>: super-seed each target while its pieces are passed on, and serve a target
    /// that passes nothing on (alone, or cut off from the others) as a plain seed would (<see cref="SuperSeedMode.Adaptive"/>).
    /// </value>
    public bool? SuperSeed { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether every manifest the depot serves is signed: with
    /// <see cref="SigningKey"/>, or else with a key the depot makes the first time and keeps in its state folder
    /// (<c>depot-signing.key.pem</c>, mode 0600, its public half in <c>depot-signing.pub.pem</c>), logging its
    /// fingerprint at every start. Enrolled targets require these signatures. <see langword="false"/> serves
    /// manifests as they are (unless <see cref="SigningKey"/> is set).
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool Sign { get; set; } = true;

    /// <summary>
    /// Gets or sets a PEM file holding the depot's ECDSA P-256 private key (<c>blocktorrent keygen</c>): every
    /// manifest it serves is signed with it, so targets with <c>Target:Trust</c> (or enrolled at the depot) accept them.
    /// </summary>
    /// <value>The default is <see langword="null"/>: with <see cref="Sign"/>, a key the depot makes; else manifests are served as they are.</value>
    public string? SigningKey { get; set; }

    /// <summary>
    /// Gets or sets a PEM file of <see cref="SigningKey"/>'s certificate chain (the key's own certificate first, then
    /// its intermediates), carried beside every signature the depot makes, so targets that trust the CA which issued
    /// it (<c>Target:Trust</c> holding the CA) accept the manifests, and the key can be replaced without touching them.
    /// </summary>
    /// <value>The default is <see langword="null"/>: only targets trusting the key itself accept the signatures.</value>
    public string? SigningCertificate { get; set; }

    /// <summary>
    /// Gets or sets how long a signature the depot makes is valid: it is signed with that expiry, and signed again
    /// once less than half of it is left (checked at every rescan), so the manifests served are always current while
    /// an old copy of one cannot be passed off as current for longer than this. <see cref="TimeSpan.Zero"/> signs
    /// without an expiry. It must be longer than twice <see cref="RescanInterval"/>.
    /// </summary>
    /// <value>The default is 30 days.</value>
    public TimeSpan SignatureLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Gets or sets a value indicating whether the manifests the depot makes are TLS swarms (libtorrent's SSL
    /// torrents): they name <see cref="SwarmAuthority"/> (<c>ssl-cert</c>), and only peers holding a certificate it
    /// issued get or give a byte of the image. The depot presents a certificate it issues itself from the authority
    /// (or <see cref="TlsCertificate"/>); each target needs its own (<c>blocktorrent tls issue --ca</c> with the
    /// authority, given as <c>Target:TlsCertificate</c>, or issued when the target enrols at the depot). A manifest the depot made earlier for another authority, or
    /// none, is made again (its info-hash changes).
    /// </summary>
    /// <value>The default is <see langword="true"/>: targets get their certificates by enrolling at the depot (<c>POST /enroll</c>); <see langword="false"/> makes plain swarms, which anyone who reaches a seed can download.</value>
    public bool TlsSwarm { get; set; } = true;

    /// <summary>
    /// Gets or sets the PEM certificate of the swarm's authority for <see cref="TlsSwarm"/>, its private key beside it
    /// as <c>NAME.key.pem</c> or in <see cref="SwarmAuthorityKey"/> (needed unless <see cref="TlsCertificate"/> is set).
    /// </summary>
    /// <value>
    /// The default is <see langword="null"/>: with <see cref="TlsSwarm"/>, the depot makes an authority the first time
    /// and keeps it in the state folder (<c>swarm-ca.pem</c>, its key in <c>swarm-ca.key.pem</c>, mode 0600), logging
    /// its fingerprint; issue the targets' certificates with it.
    /// </value>
    public string? SwarmAuthority { get; set; }

    /// <summary>Gets or sets the PEM file of <see cref="SwarmAuthority"/>'s private key, when it is not beside it as <c>NAME.key.pem</c>.</summary>
    /// <value>The default is <see langword="null"/>.</value>
    public string? SwarmAuthorityKey { get; set; }

    /// <summary>
    /// Gets or sets the depot's own peer certificate for TLS swarms (PEM; its key beside it as <c>NAME.key.pem</c> or in
    /// <see cref="TlsKey"/>): needed to seed a TLS manifest placed beside an image whose authority's key the depot does
    /// not hold. Manifests whose authority does not admit it fail to start, with the reason in the status.
    /// </summary>
    /// <value>The default is <see langword="null"/>: with <see cref="TlsSwarm"/>, a certificate for every torrent (<c>*</c>) issued at each start from the authority.</value>
    public string? TlsCertificate { get; set; }

    /// <summary>Gets or sets the PEM file of <see cref="TlsCertificate"/>'s private key, when it is not beside it as <c>NAME.key.pem</c>.</summary>
    /// <value>The default is <see langword="null"/>.</value>
    public string? TlsKey { get; set; }

    /// <summary>
    /// Gets or sets how long a new or changed image (and its manifest) must stay unchanged (length, modification
    /// time, and on Linux inode and ctime) before the depot makes its manifest and serves it, so a file still being
    /// copied in is never served. An image whose last change is already that long ago is served at once.
    /// </summary>
    /// <value>The default is 30 seconds.</value>
    public TimeSpan SettleTime { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how often the folder is scanned for new and removed images.</summary>
    /// <value>The default is 1 minute.</value>
    public TimeSpan RescanInterval { get; set; } = TimeSpan.FromMinutes(1);
}

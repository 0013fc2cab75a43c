using System.Net;

namespace BlockTorrent;

/// <summary>Settings for one <see cref="BlockTorrentClient.SeedAsync"/> call.</summary>
public sealed class SeedOptions
{
    /// <summary>Gets peers to connect to directly.</summary>
    public IList<IPEndPoint> Peers { get; } = [];

    /// <summary>Gets trackers to announce to, in addition to the manifest's own.</summary>
    public IList<Uri> Trackers { get; } = [];

    /// <summary>Gets or sets a value indicating whether the manifest's trackers are used.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool UseManifestTrackers { get; set; } = true;

    /// <summary>Gets or sets whether Local Service Discovery is used; <see langword="null"/> follows the client's setting.</summary>
    /// <value>The default is <see langword="null"/>.</value>
    public bool? UseLocalPeerDiscovery { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether each piece is checked against the manifest the first time it is read.
    /// A piece that does not match (the image changed after its manifest was made) is never served: it is reported
    /// (<see cref="SwarmEventKind.SourcePieceInvalid"/>, an error in the log), the seed stops offering it, and the
    /// peers it was offered to are reconnected with a bitfield without it, so they look for it elsewhere instead of
    /// asking again. Turning this off trusts the source: a changed piece is served, fails the peers' hash checks and
    /// gets the seed banned.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool VerifyOnFirstRead { get; set; } = true;

    /// <summary>
    /// Gets or sets whether to super-seed (BEP 16): offer each peer a few rare pieces at a time, so an initial seed
    /// uploads each piece about once and the peers spread it among themselves.
    /// </summary>
    /// <value>
    /// The default is <see cref="SuperSeedMode.Adaptive"/>: super-seeding each peer while its pieces are passed on,
    /// and serving a peer that passes nothing on (a lone target, targets that cannot reach one another) as a plain
    /// seed would, so no swarm is slower for it.
    /// </value>
    /// <remarks>
    /// On Linux a super-seed also evens out its upload among its peers: while a connection getting less than an even
    /// share is held back by the seed's own uplink (a plain FIFO network queue favours connections with larger
    /// congestion windows), every connection is paced to at most a quarter above the even share (SO_MAX_PACING_RATE),
    /// so every peer has distinct pieces to pass on from the first second. Connections slowed further along (slower
    /// links, busy peers) never turn the pacing on, and pacing under which the seed's total upload falls by a tenth is
    /// lifted for a while.
    /// </remarks>
    public SuperSeedMode SuperSeeding { get; set; }

    /// <summary>
    /// Gets or sets the most this seed uploads, in bytes per second (a depot's cap per image), on top of the client's
    /// <see cref="BlockTorrentClientOptions.MaxUploadRate"/>: each block is sent when both allow.
    /// </summary>
    /// <value>The default is 0: no limit of its own.</value>
    public long MaxUploadRate { get; set; }

    /// <summary>
    /// Gets or sets the limiter whose buckets this seed's peers take from, so what the caller sends besides BitTorrent
    /// under the same limiter (an HTTP web seed of the image) counts against the same cap. It must come from the
    /// client that seeds (<see cref="BlockTorrentClient.CreateUploadLimiter"/>), and it replaces
    /// <see cref="MaxUploadRate"/>, which must then be 0.
    /// </summary>
    /// <value>The default is <see langword="null"/>: the seed's buckets are its own.</value>
    public UploadLimiter? UploadLimiter { get; set; }

    /// <summary>Gets or sets what receives the seed's progress (bytes sent, peers) about four times a second while it runs.</summary>
    /// <value>The default is <see langword="null"/>: no progress reports.</value>
    public IProgress<SeedProgress>? Progress { get; set; }
}

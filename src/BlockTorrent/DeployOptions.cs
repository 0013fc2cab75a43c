using System.Net;

namespace BlockTorrent;

/// <summary>Settings for one <see cref="BlockTorrentClient.DeployAsync(Manifest.TorrentManifest, Devices.IBlockDevice, DeployOptions?, IProgress{DeploymentProgress}?, CancellationToken)"/> call.</summary>
public sealed class DeployOptions
{
    /// <summary>Gets peers to connect to directly (a depot seed, for instance).</summary>
    public IList<IPEndPoint> Peers { get; } = [];

    /// <summary>Gets trackers to announce to, in addition to the manifest's own.</summary>
    public IList<Uri> Trackers { get; } = [];

    /// <summary>Gets or sets a value indicating whether the manifest's trackers are used.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool UseManifestTrackers { get; set; } = true;

    /// <summary>Gets or sets whether Local Service Discovery is used; <see langword="null"/> follows the client's setting.</summary>
    /// <value>The default is <see langword="null"/>.</value>
    public bool? UseLocalPeerDiscovery { get; set; }

    /// <summary>Gets or sets how long to keep seeding after the image is complete, before the call returns.</summary>
    /// <value>The default is <see cref="TimeSpan.Zero"/>: return at once.</value>
    public TimeSpan SeedAfter { get; set; }

    /// <summary>Gets or sets a value indicating whether every piece is read back from the device and checked after the final flush.</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool VerifyAfterWrite { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether pieces of a hybrid torrent are checked against their SHA-1 as well as
    /// their SHA-256 merkle root (see <see cref="Writing.PieceWriterOptions.VerifyAllHashes"/>); a torrent whose halves
    /// disagree about a piece then fails the deployment with an <see cref="Manifest.InvalidTorrentException"/>.
    /// </summary>
    /// <value>The default is <see langword="false"/>: the merkle root alone, which suffices for a consistent torrent.</value>
    public bool VerifyAllHashes { get; set; }

    /// <summary>
    /// Gets or sets a file that records which pieces were durably on the device when an earlier call ended. When it
    /// exists and matches the image and device, the pieces it names are read back and hashed first, and only those
    /// whose bytes still match the manifest are kept instead of fetched: the file is a hint that saves transfer,
    /// never proof (the device may have been written since, or the file may be another device's). It is written
    /// when the call ends, whether it completed, failed or was cancelled.
    /// </summary>
    /// <value>The default is <see langword="null"/>: no resume file.</value>
    public string? ResumeFilePath { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the device's existing data is checked and every piece already on it is
    /// kept (re-imaging: only the pieces that differ travel).
    /// </summary>
    /// <remarks>
    /// The check runs while the swarm does: the target joins at once, each piece found in place is announced and
    /// served, each piece found missing is fetched at once, and a piece whose bytes sit at another piece-aligned
    /// offset of the target (moved by a partition resize, say) is copied from there, never fetched
    /// (<see cref="DeploymentResult.PiecesCopiedLocally"/>). Nothing is written to a region before it was read, nor
    /// while its bytes are still to be copied elsewhere; <see cref="DeploymentProgress.PiecesChecked"/> follows the
    /// check. A compressed image's target is checked before the swarm starts.
    /// </remarks>
    /// <value>The default is <see langword="false"/>.</value>
    public bool CheckExistingData { get; set; }

    /// <summary>
    /// Gets or sets the manifest the target was last deployed with (last month's image), a hint to
    /// <see cref="CheckExistingData"/> of where each piece's bytes sit before anything is read.
    /// </summary>
    /// <remarks>
    /// A region that held an old piece is expected to hold that piece's bytes still. The check then reads first the
    /// regions where something changed, wants from peers at once each piece whose bytes no old region held, and waits
    /// for the regions expected to hold a moved piece before it fetches that piece, so only the changed pieces travel
    /// however fast the disk and the link are. A hint, never proof: every region is still read and every piece
    /// verified against the new manifest, so a wrong hint (another image's manifest, a disk written since) costs
    /// transfer, never correctness. Ignored when the two manifests do not hash pieces alike (another piece length, or
    /// no hash kind in common).
    /// </remarks>
    /// <value>The default is <see langword="null"/>: moved pieces are looked for as the check goes, and a piece found missing is fetched when the link needs it.</value>
    public Manifest.TorrentManifest? PreviousManifest { get; set; }

    /// <summary>Gets or sets a value indicating whether the device is known to read as zeros already, so all-zero pieces need no writes.</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool DeviceIsZeroed { get; set; }

    /// <summary>
    /// Gets or sets the largest info dictionary accepted from peers when starting from a magnet link (BEP 9); a peer
    /// that offers more is refused before anything is allocated.
    /// </summary>
    /// <value>The default is 16 MiB (the info dictionary of a 1 TiB image in 4 MiB pieces is about 5 MiB).</value>
    public int MaxMetadataSize { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Gets or sets how long to look for a peer that delivers the metadata of a magnet link before giving up with a
    /// <see cref="TimeoutException"/>; <see cref="Timeout.InfiniteTimeSpan"/> waits until cancelled.
    /// </summary>
    /// <value>The default is 5 minutes.</value>
    public TimeSpan MetadataTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets a value indicating whether web seeds (BEP 19: the manifest's <c>url-list</c>, and
    /// <see cref="WebSeeds"/>) fill in where the peers fall short: after <see cref="WebSeedDelay"/>, a web seed fetches
    /// each wanted piece no connected peer has, and any wanted piece while the peers together deliver less than
    /// <see cref="WebSeedWhenPeersBelow"/>. A piece from a web seed is fetched in one range request and verified
    /// against the manifest like a peer's before anything is written; a web seed whose pieces fail their hash as
    /// often as a peer is banned for (<see cref="BlockTorrentClientOptions.MaxHashFailuresPerPeer"/>) is dropped.
    /// </summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool UseWebSeeds { get; set; } = true;

    /// <summary>
    /// Gets web seeds to use besides the manifest's: URLs of the image's bytes, or of a folder holding it under the
    /// torrent's name when the URL ends with <c>/</c> (BEP 19). The servers must answer HTTP range requests.
    /// </summary>
    public IList<Uri> WebSeeds { get; } = [];

    /// <summary>Gets or sets how long a deployment gives its peers before web seeds fill in at all.</summary>
    /// <value>The default is 3 seconds.</value>
    public TimeSpan WebSeedDelay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Gets or sets the peers' combined download rate, in bytes per second, below which they count as slow and web seeds
    /// fetch any wanted piece alongside them; at or above it, web seeds fetch only pieces no connected peer has.
    /// </summary>
    /// <value>The default is 1 MiB/s; 0 keeps web seeds to the pieces no connected peer has.</value>
    public long WebSeedWhenPeersBelow { get; set; } = 1024 * 1024;

    /// <summary>
    /// Gets or sets how long a deployment waits, with nothing arriving, while pieces it still needs are held by no
    /// peer it can use (the connected peers lack them, or the peers that had them were banned), before it stops with
    /// a <see cref="PiecesUnavailableException"/> naming the pieces and the banned peers. A deployment that has met no
    /// peer yet waits for one regardless; <see cref="Timeout.InfiniteTimeSpan"/> waits until cancelled.
    /// </summary>
    /// <value>The default is 60 seconds.</value>
    public TimeSpan StallTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Gets or sets the keys a manifest must be signed by. When set, a manifest that is unsigned, whose signature
    /// does not verify, or that is signed by another key is refused with a <see cref="Manifest.ManifestTrustException"/>
    /// before anything is written to the device. A magnet link carries no signature, so a deployment from one is
    /// refused too.
    /// </summary>
    /// <value>The default is <see langword="null"/>: signatures are not required.</value>
    public Manifest.ManifestTrust? Trust { get; set; }

    /// <summary>
    /// Gets or sets the info-hash the manifest must have (v1, or v2 in full): a manifest with any other identity is
    /// refused with a <see cref="Manifest.ManifestTrustException"/> before anything is written. This pins one image
    /// without signatures, as a URL fragment <c>#btih=…</c> does.
    /// </summary>
    /// <value>The default is <see langword="null"/>: any info-hash.</value>
    public Manifest.InfoHash? ExpectedInfoHash { get; set; }

    /// <summary>
    /// Gets or sets the most bytes of a compressed stream's pieces (<see cref="Compression.StreamImage"/>: an
    /// <c>.img.zst</c>, <c>.img.gz</c> or <c>.img.xz</c>) held at once while they wait for the decoder, which writes
    /// the raw image in order. Pieces beyond what fits are not requested until the decoder has taken earlier ones;
    /// decoded pieces stay to be served to peers until their room is needed. The same whatever the image's size; it
    /// must hold one piece at least. Raw and seekable compressed images never use scratch.
    /// </summary>
    /// <value>The default is 256 MiB.</value>
    public long ScratchSize { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// Gets or sets a folder for a compressed stream's scratch: a sparse temporary file there, deleted afterwards
    /// (<see cref="Scratch.FileScratchStore"/>). <see langword="null"/> keeps scratch in memory
    /// (<see cref="Scratch.MemoryScratchStore"/>). Ignored when <see cref="ScratchStoreFactory"/> is set.
    /// </summary>
    /// <value>The default is <see langword="null"/>: memory.</value>
    public string? ScratchDirectory { get; set; }

    /// <summary>
    /// Gets or sets how a compressed stream's scratch is made, given <see cref="ScratchSize"/> and the piece length: a
    /// region of a spare partition, say, or a store that counts what it holds. The deployment disposes the store.
    /// </summary>
    /// <value>The default is <see langword="null"/>: <see cref="ScratchDirectory"/> decides.</value>
    public Func<long, int, Scratch.IScratchStore>? ScratchStoreFactory { get; set; }

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        if (SeedAfter < TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(SeedAfter)} must not be negative.", nameof(SeedAfter));
        }

        if (Peers.Any(p => p is null || p.Port == 0))
        {
            throw new ArgumentException($"{nameof(Peers)} must hold endpoints with a port.", nameof(Peers));
        }

        if (MaxMetadataSize is < 1 or > Wire.MetadataMessage.MaxTotalSize)
        {
            throw new ArgumentException($"{nameof(MaxMetadataSize)} must be between 1 byte and {Wire.MetadataMessage.MaxTotalSize / (1024 * 1024)} MiB.", nameof(MaxMetadataSize));
        }

        if (MetadataTimeout <= TimeSpan.Zero && MetadataTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException($"{nameof(MetadataTimeout)} must be positive or infinite.", nameof(MetadataTimeout));
        }

        if (ExpectedInfoHash is { Version: Manifest.TorrentVersions.None })
        {
            throw new ArgumentException($"{nameof(ExpectedInfoHash)} is empty.", nameof(ExpectedInfoHash));
        }

        if (ScratchSize <= 0)
        {
            throw new ArgumentException($"{nameof(ScratchSize)} must be positive.", nameof(ScratchSize));
        }

        if (WebSeedDelay < TimeSpan.Zero || WebSeedWhenPeersBelow < 0)
        {
            throw new ArgumentException($"{nameof(WebSeedDelay)} and {nameof(WebSeedWhenPeersBelow)} must not be negative.", WebSeedDelay < TimeSpan.Zero ? nameof(WebSeedDelay) : nameof(WebSeedWhenPeersBelow));
        }

        foreach (Uri url in WebSeeds)
        {
            if (url is null || !url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            {
                throw new ArgumentException($"{nameof(WebSeeds)} must hold absolute http or https URLs; '{url}' is not one.", nameof(WebSeeds));
            }
        }

        if (StallTimeout <= TimeSpan.Zero && StallTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentException($"{nameof(StallTimeout)} must be positive or infinite.", nameof(StallTimeout));
        }
    }

    /// <summary>Gets peers only PEX named while a magnet link's metadata was fetched, each with the peer that named it.</summary>
    internal List<(IPEndPoint Peer, IPAddress Source)> ExchangedPeers { get; } = [];

    /// <summary>Copies the settings, adding the peers found while fetching a magnet link's metadata.</summary>
    /// <param name="peers">The peers the user, trackers or LSD named.</param>
    /// <param name="exchanged">The peers only PEX named, with the peer that named each.</param>
    internal DeployOptions WithPeers(IEnumerable<IPEndPoint> peers, IEnumerable<(IPEndPoint Peer, IPAddress Source)> exchanged)
    {
        var copy = new DeployOptions
        {
            UseManifestTrackers = UseManifestTrackers,
            UseLocalPeerDiscovery = UseLocalPeerDiscovery,
            SeedAfter = SeedAfter,
            VerifyAfterWrite = VerifyAfterWrite,
            ResumeFilePath = ResumeFilePath,
            CheckExistingData = CheckExistingData,
            PreviousManifest = PreviousManifest,
            DeviceIsZeroed = DeviceIsZeroed,
            MaxMetadataSize = MaxMetadataSize,
            MetadataTimeout = MetadataTimeout,
            StallTimeout = StallTimeout,
            UseWebSeeds = UseWebSeeds,
            WebSeedDelay = WebSeedDelay,
            WebSeedWhenPeersBelow = WebSeedWhenPeersBelow,
            VerifyAllHashes = VerifyAllHashes,
            Trust = Trust,
            ExpectedInfoHash = ExpectedInfoHash,
            ScratchSize = ScratchSize,
            ScratchDirectory = ScratchDirectory,
            ScratchStoreFactory = ScratchStoreFactory,
        };
        foreach (IPEndPoint peer in Peers.Concat(peers).Distinct())
        {
            copy.Peers.Add(peer);
        }

        copy.ExchangedPeers.AddRange(ExchangedPeers.Concat(exchanged).Where(p => !copy.Peers.Contains(p.Peer)));

        foreach (Uri tracker in Trackers)
        {
            copy.Trackers.Add(tracker);
        }

        foreach (Uri url in WebSeeds)
        {
            copy.WebSeeds.Add(url);
        }

        return copy;
    }
}

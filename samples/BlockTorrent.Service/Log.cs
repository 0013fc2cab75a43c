using System.Net;

namespace BlockTorrent.Service;

/// <summary>The service's log messages (event ids 5000–5099).</summary>
internal static partial class Log
{
    [LoggerMessage(5000, LogLevel.Information, "Depot: seeding the images in {Folder}; peers connect to {PeerEndPoint}")]
    public static partial void DepotStarted(ILogger logger, string folder, IPEndPoint peerEndPoint);

    [LoggerMessage(5093, LogLevel.Information, "Depot: {Name} is a {Format} stream; its manifest describes the compressed file, with the raw image's length and SHA-256")]
    public static partial void StreamImage(ILogger logger, string name, string format);

    [LoggerMessage(5008, LogLevel.Information, "Status endpoint: {StatusUrl}/status")]
    public static partial void StatusListening(ILogger logger, string statusUrl);

    [LoggerMessage(5017, LogLevel.Information, "Metrics: Prometheus scrapes {MetricsUrl}/metrics")]
    public static partial void MetricsListening(ILogger logger, string metricsUrl);

    [LoggerMessage(5040, LogLevel.Information, "Fleet: the fleet view at {FleetUrl}/fleet (a browser gets the page), its events at {FleetUrl}/fleet/events")]
    public static partial void FleetListening(ILogger logger, string fleetUrl);

    [LoggerMessage(5041, LogLevel.Debug, "Fleet: webhook {Url} took {Event} (attempt {Attempt})")]
    public static partial void WebhookDelivered(ILogger logger, string @event, Uri url, int attempt);

    [LoggerMessage(5042, LogLevel.Warning, "Fleet: webhook {Url} refused {Event} ({Answer}); it is not sent again")]
    public static partial void WebhookRefused(ILogger logger, string @event, Uri url, string answer);

    [LoggerMessage(5043, LogLevel.Warning, "Fleet: webhook {Url} did not take {Event} ({Reason}); trying again in {Delay}")]
    public static partial void WebhookRetry(ILogger logger, string @event, Uri url, string reason, TimeSpan delay);

    [LoggerMessage(5044, LogLevel.Error, "Fleet: webhook {Url} did not take {Event} in {Attempts} attempts ({Reason}); it is dropped")]
    public static partial void WebhookGaveUp(ILogger logger, string @event, Uri url, int attempts, string reason);

    [LoggerMessage(5045, LogLevel.Warning, "Target: cannot report to the depot at {Url}: {Reason}; the deployment goes on, and reports resume when it answers")]
    public static partial void ReportFailed(ILogger logger, Uri url, string reason);

    [LoggerMessage(5010, LogLevel.Information, "Depot: manifests at {ManifestsUrl}/images/NAME.torrent ({Setting})")]
    public static partial void ManifestsListening(ILogger logger, string setting, string manifestsUrl);

    [LoggerMessage(5018, LogLevel.Information, "Depot: HTTPS certificate {Path} ({Action}), fingerprint {Fingerprint}: give targets this file as Target:ServerCertificate, or the fingerprint as Target:ServerFingerprint")]
    public static partial void ManifestsCertificate(ILogger logger, string action, string path, string fingerprint);

    [LoggerMessage(5001, LogLevel.Information, "Depot: embedded tracker at {Announce}")]
    public static partial void TrackerStarted(ILogger logger, Uri announce);

    [LoggerMessage(5002, LogLevel.Information, "Depot: creating the manifest {Manifest} for {Image}")]
    public static partial void CreatingManifest(ILogger logger, string manifest, string image);

    [LoggerMessage(5009, LogLevel.Information, "Depot: {Manifest} announced to {Old}; rewritten to announce to this run's tracker {Tracker} (same info-hash)")]
    public static partial void ManifestTrackerRewritten(ILogger logger, string manifest, string old, Uri tracker);

    [LoggerMessage(5003, LogLevel.Information, "Depot: seeding {Image} ({Length} bytes, {PieceCount} pieces, info-hash {InfoHash})")]
    public static partial void Seeding(ILogger logger, string image, long length, int pieceCount, string infoHash);

    [LoggerMessage(5004, LogLevel.Error, "Depot: cannot serve {Image}: {Reason}")]
    public static partial void ImageFailed(ILogger logger, Exception? exception, string image, string reason);

    [LoggerMessage(5005, LogLevel.Information, "Depot: stopped seeding {Image} (removed or changed)")]
    public static partial void ImageRemoved(ILogger logger, string image);

    [LoggerMessage(5006, LogLevel.Warning, "Depot: {Manifest} has no image {Image} beside it; it is not served")]
    public static partial void OrphanManifest(ILogger logger, string manifest, string image);

    [LoggerMessage(5007, LogLevel.Error, "Depot: cannot scan {Folder}: {Reason}")]
    public static partial void ScanFailed(ILogger logger, Exception exception, string folder, string reason);

    [LoggerMessage(5011, LogLevel.Critical, "Depot: cannot serve: {Reason}")]
    public static partial void DepotFailed(ILogger logger, Exception exception, string reason);

    [LoggerMessage(5012, LogLevel.Information, "Depot: {Image} is new or changing; it is served once it has not changed for {SettleTime}")]
    public static partial void ImageSettling(ILogger logger, string image, TimeSpan settleTime);

    [LoggerMessage(5013, LogLevel.Warning, "Depot: {Image} changed while it was served; it is served again once it settles")]
    public static partial void ImageChanged(ILogger logger, string image);

    [LoggerMessage(5014, LogLevel.Information, "Depot: {Image} changed after the depot made {Manifest}; making it again")]
    public static partial void ManifestRemade(ILogger logger, string image, string manifest);

    [LoggerMessage(5015, LogLevel.Warning, "Depot: {Image} changed while its manifest was made; the manifest is dropped and made again once the image settles")]
    public static partial void ImageChangedWhileHashing(ILogger logger, string image);

    [LoggerMessage(5020, LogLevel.Information, "Target: deploying {Name} ({Length} bytes, {PieceCount} pieces) to {Device}; peers connect to {PeerEndPoint}; resume file {ResumeFile}")]
    public static partial void Deploying(ILogger logger, string name, long length, int pieceCount, string device, IPEndPoint peerEndPoint, string resumeFile);

    [LoggerMessage(5094, LogLevel.Information, "Target: {Device} last held {Previous} ({Path}); its manifest tells the check where each piece sits")]
    public static partial void PreviousManifest(ILogger logger, string device, string previous, string path);

    [LoggerMessage(5095, LogLevel.Warning, "Target: ignoring the manifest remembered for {Device} in {Path}: {Problem}")]
    public static partial void PreviousManifestUnreadable(ILogger logger, string device, string path, string problem);

    [LoggerMessage(5021, LogLevel.Information, "Target: {Percent:0.0}% ({PiecesOnDevice}/{PieceCount} pieces), {BytesDownloaded} bytes from {Peers} peers, {BytesUploaded} bytes sent")]
    public static partial void Progress(ILogger logger, double percent, int piecesOnDevice, int pieceCount, long bytesDownloaded, int peers, long bytesUploaded);

    [LoggerMessage(5022, LogLevel.Information, "Target: {Name} is on {Device}, verified, in {Duration}: {PiecesDownloaded} pieces from peers, {PiecesAlreadyPresent} already there, {BytesSatisfiedLocally} bytes satisfied locally")]
    public static partial void Deployed(ILogger logger, string name, string device, TimeSpan duration, int piecesDownloaded, int piecesAlreadyPresent, long bytesSatisfiedLocally);

    [LoggerMessage(5029, LogLevel.Information, "Target: {Name} was a {Format} stream, decoded to {RawLength} bytes; scratch held at most {ScratchPeak} of its {ScratchSize} bytes")]
    public static partial void StreamDecoded(ILogger logger, string name, string format, long rawLength, long scratchPeak, long scratchSize);

    [LoggerMessage(5030, LogLevel.Information, "Target: {Name} is a compressed stream, on the device raw: the target served its pieces while it deployed and does not seed afterwards")]
    public static partial void NoSeedingOfCompressed(ILogger logger, string name);

    [LoggerMessage(5023, LogLevel.Information, "Target: seeding {Name} from {Device} to the other targets {Until}")]
    public static partial void SeedingAfter(ILogger logger, string name, string device, string until);

    [LoggerMessage(5024, LogLevel.Warning, "Target: cannot get the manifest from {Source}: {Reason}; retrying in {Delay}")]
    public static partial void ManifestRetry(ILogger logger, string source, string reason, TimeSpan delay);

    [LoggerMessage(5025, LogLevel.Critical, "Target: the deployment of {Image} to {Device} failed: {Reason}")]
    public static partial void DeployFailed(ILogger logger, Exception exception, string image, string device, string reason);

    [LoggerMessage(5026, LogLevel.Information, "Target: stopped; the pieces on {Device} are recorded in {ResumeFile}, and the next start resumes")]
    public static partial void Interrupted(ILogger logger, string device, string resumeFile);

    [LoggerMessage(5027, LogLevel.Information, "Target: fetching the manifest of {Magnet} from peers")]
    public static partial void FetchingMetadata(ILogger logger, string magnet);

    [LoggerMessage(5028, LogLevel.Information, "Target: the manifest of {Image} is signed by trusted key {Fingerprint}")]
    public static partial void ManifestTrusted(ILogger logger, string image, string fingerprint);

    [LoggerMessage(5016, LogLevel.Information, "Depot: signed {Manifest} with key {Fingerprint}")]
    public static partial void ManifestSigned(ILogger logger, string manifest, string fingerprint);

    [LoggerMessage(5060, LogLevel.Information, "Depot: TLS swarm authority {Path} ({Action}), fingerprint {Fingerprint}: the manifests the depot makes name it; targets get their certificates by enrolling (POST /enroll), or one is issued with it (blocktorrent tls issue --ca {Path}) and given as Target:TlsCertificate")]
    public static partial void SwarmAuthority(ILogger logger, string action, string path, string fingerprint);

    [LoggerMessage(5061, LogLevel.Information, "Target: {Image} is a TLS swarm; this target presents {Subject}")]
    public static partial void TlsSwarm(ILogger logger, string image, string subject);

    [LoggerMessage(5090, LogLevel.Information, "Depot: capturing {Image} from {Capturer} ({Length} bytes, {Pieces} pieces)")]
    public static partial void CaptureStarted(ILogger logger, string image, System.Net.IPEndPoint capturer, long length, int pieces);

    [LoggerMessage(5091, LogLevel.Information, "Depot: captured {Image}: {Bytes} bytes received in {Duration}; serving it once it settles")]
    public static partial void CaptureReceived(ILogger logger, string image, long bytes, TimeSpan duration);

    [LoggerMessage(5092, LogLevel.Error, "Depot: the capture of {Image} failed")]
    public static partial void CaptureFailed(ILogger logger, Exception exception, string image);

    [LoggerMessage(5062, LogLevel.Information, "Depot: signing key {Path} ({Action}), fingerprint {Fingerprint}: every manifest the depot serves is signed with it; enrolled targets require it")]
    public static partial void SigningKey(ILogger logger, string action, string path, string fingerprint);

    [LoggerMessage(5063, LogLevel.Information, "Depot: enrolled {Source}: swarm certificate {Fingerprint} until {NotAfter:u}")]
    public static partial void Enrolled(ILogger logger, System.Net.IPAddress source, string fingerprint, DateTimeOffset notAfter);

    [LoggerMessage(5064, LogLevel.Warning, "Depot: refused an enrolment from {Source}: {Reason}")]
    public static partial void EnrolmentRefused(ILogger logger, System.Net.IPAddress? source, string reason);

    [LoggerMessage(5065, LogLevel.Information, "Target: enrolled at {Depot} ({Action}): swarm certificate {Certificate}, manifests trusted when signed by {Signers}")]
    public static partial void TargetEnrolled(ILogger logger, string depot, string action, string certificate, string signers);
}

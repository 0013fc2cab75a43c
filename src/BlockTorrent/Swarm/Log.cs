using System.Net;
using Microsoft.Extensions.Logging;

namespace BlockTorrent.Swarm;

/// <summary>The swarm's log messages (event ids 300-399).</summary>
internal static partial class Log
{
    [LoggerMessage(300, LogLevel.Debug, "Connected to {Peer} ({Direction}) for {Torrent}")]
    public static partial void PeerConnected(ILogger logger, IPEndPoint peer, string direction, string torrent);

    [LoggerMessage(301, LogLevel.Debug, "Disconnected from {Peer}: {Reason}")]
    public static partial void PeerDisconnected(ILogger logger, IPEndPoint peer, string reason);

    [LoggerMessage(302, LogLevel.Warning, "Banned {Peer} after {Failures} pieces that failed their hash check (banned: {Scope})")]
    public static partial void PeerBanned(ILogger logger, IPEndPoint peer, int failures, string scope);

    [LoggerMessage(303, LogLevel.Warning, "Piece {Piece} failed its hash check (sent by {Contributors} peer(s))")]
    public static partial void PieceFailed(ILogger logger, int piece, int contributors);

    [LoggerMessage(325, LogLevel.Warning, "Piece {Piece}, assembled with blocks filled in locally from the manifest's block map, failed its check; fetching it whole")]
    public static partial void LocalBlocksFailed(ILogger logger, int piece);

    [LoggerMessage(304, LogLevel.Debug, "Could not connect to {Peer}: {Reason}")]
    public static partial void ConnectFailed(ILogger logger, IPEndPoint peer, string reason);

    [LoggerMessage(305, LogLevel.Information, "Listening for peers on {EndPoint}")]
    public static partial void Listening(ILogger logger, EndPoint endPoint);

    [LoggerMessage(306, LogLevel.Debug, "Refused an incoming connection from {Peer}: {Reason}")]
    public static partial void IncomingRefused(ILogger logger, EndPoint? peer, string reason);

    [LoggerMessage(307, LogLevel.Information, "Deploying {Torrent} onto {Device}: {Have} of {Pieces} pieces already there, {Wanted} to fetch")]
    public static partial void DeployStarted(ILogger logger, string torrent, string device, int have, int pieces, int wanted);

    [LoggerMessage(357, LogLevel.Warning, "The previous manifest {Previous} hashes pieces unlike {Torrent} (another piece length, or no hash kind in common); the re-image checks without it")]
    public static partial void PreviousManifestNotComparable(ILogger logger, string previous, string torrent);

    [LoggerMessage(308, LogLevel.Information, "Deployed {Torrent} onto {Device} in {Elapsed}: {Downloaded} bytes from peers, {HashFailures} hash failures")]
    public static partial void DeployCompleted(ILogger logger, string torrent, string device, TimeSpan elapsed, long downloaded, int hashFailures);

    [LoggerMessage(309, LogLevel.Information, "Seeding {Torrent} from {Device}")]
    public static partial void SeedStarted(ILogger logger, string torrent, string device);

    [LoggerMessage(310, LogLevel.Debug, "Peer {Peer} stalled with {Outstanding} requests outstanding; they go to other peers")]
    public static partial void PeerStalled(ILogger logger, IPEndPoint peer, int outstanding);

    [LoggerMessage(311, LogLevel.Error, "Piece {Piece} read from {Device} does not match the manifest: the source changed after its manifest was made; the piece is not served")]
    public static partial void SourcePieceInvalid(ILogger logger, int piece, string device);

    [LoggerMessage(312, LogLevel.Warning, "Could not save the resume state to {Path}")]
    public static partial void ResumeSaveFailed(ILogger logger, Exception exception, string path);

    [LoggerMessage(313, LogLevel.Information, "Resume state {Path} not used: {Reason}")]
    public static partial void ResumeIgnored(ILogger logger, string path, string reason);

    [LoggerMessage(314, LogLevel.Information, "Found {Count} pieces already correct on {Device}")]
    public static partial void FoundOnDevice(ILogger logger, int count, string device);

    [LoggerMessage(315, LogLevel.Warning, "Peer discovery failed: {Reason}")]
    public static partial void DiscoveryFailed(ILogger logger, string reason);

    [LoggerMessage(316, LogLevel.Information, "Received the metadata of {Torrent} from {Peer}")]
    public static partial void MetadataReceived(ILogger logger, string torrent, IPEndPoint peer);

    [LoggerMessage(318, LogLevel.Debug, "Refused a request from {Peer} for piece {Piece} offset {Offset} length {Length} (choking: {Choking}, have: {Have})")]
    public static partial void RequestRefused(ILogger logger, IPEndPoint peer, int piece, int offset, int length, bool choking, bool have);

    [LoggerMessage(317, LogLevel.Error, "The swarm for {Torrent} failed")]
    public static partial void SwarmFailed(ILogger logger, Exception exception, string torrent);

    [LoggerMessage(319, LogLevel.Debug, "Finishing a connection's sends failed because the connection is gone: {Reason}")]
    public static partial void SendCompletionFailed(ILogger logger, string reason);

    [LoggerMessage(320, LogLevel.Error, "Handling a message from {Peer} failed; only that connection is closed")]
    public static partial void HandlerFailed(ILogger logger, Exception exception, IPEndPoint peer);

    [LoggerMessage(321, LogLevel.Warning, "Refused an incoming connection from {Peer}: {Pending} handshakes are already in progress")]
    public static partial void TooManyPendingHandshakes(ILogger logger, EndPoint? peer, int pending);

    [LoggerMessage(322, LogLevel.Debug, "Peer {Peer} did not deliver the metadata: {Reason}")]
    public static partial void MetadataPeerFailed(ILogger logger, IPEndPoint peer, string reason);

    [LoggerMessage(323, LogLevel.Debug, "No connection slot for {Peer}: {Reason}")]
    public static partial void NoConnectionSlot(ILogger logger, IPEndPoint peer, string reason);

    [LoggerMessage(324, LogLevel.Debug, "Refused an incoming connection from {Peer}: {Pending} handshakes from its address are already in progress")]
    public static partial void TooManyPendingHandshakesFromAddress(ILogger logger, EndPoint? peer, int pending);

    [LoggerMessage(330, LogLevel.Warning, "Deploying {Torrent}: {Detail}; {When}")]
    public static partial void PiecesUnavailable(ILogger logger, string torrent, string detail, string when);

    [LoggerMessage(331, LogLevel.Error, "Deploying {Torrent} stopped: {Detail}")]
    public static partial void PiecesUnavailableStop(ILogger logger, string torrent, string detail);

    [LoggerMessage(340, LogLevel.Information, "The manifest of {Torrent} is signed by trusted key {Fingerprint}")]
    public static partial void ManifestTrusted(ILogger logger, string torrent, string fingerprint);

    [LoggerMessage(356, LogLevel.Debug, "Super-seeding: {Peer} passes no piece on, so it is told every piece ({Opened} peers so far)")]
    public static partial void PeerOpened(ILogger logger, IPEndPoint peer, int opened);

    [LoggerMessage(350, LogLevel.Information, "Decoded the stream {Torrent} onto {Device}: {RawBytes} raw bytes; scratch held at most {PeakScratch} of {ScratchCapacity} bytes")]
    public static partial void StreamDecoded(ILogger logger, string torrent, string device, long rawBytes, long peakScratch, long scratchCapacity);
}

using System.Net;
using BlockTorrent.Manifest;
using Microsoft.Extensions.Logging;

namespace BlockTorrent.Discovery;

/// <summary>Log messages of peer discovery (trackers, the embedded tracker, LSD). Event ids 4100–4199.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Debug, Message = "Announced {Event} to {Tracker}: {PeerCount} peers, next in {Interval}")]
    public static partial void TrackerAnnounced(ILogger logger, Uri tracker, AnnounceEvent @event, int peerCount, TimeSpan interval);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Debug, Message = "No answer from {Tracker} to {Action}; try {Attempt} waited {Timeout}")]
    public static partial void UdpTrackerRetransmitting(ILogger logger, Uri tracker, UdpTrackerAction action, int attempt, TimeSpan timeout);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Tracker {Tracker} warns: {Warning}")]
    public static partial void TrackerWarning(ILogger logger, Uri tracker, string warning);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Announce to {Tracker} failed; retrying in {Delay}")]
    public static partial void TrackerAnnounceFailed(ILogger logger, Uri tracker, TimeSpan delay, Exception exception);

    // Leaving a swarm whose tracker is already gone is routine (the tracker expires us anyway): one line, no stack.
    [LoggerMessage(EventId = 4104, Level = LogLevel.Information, Message = "Could not tell {Tracker} that we stopped: {Reason}")]
    public static partial void TrackerStoppedFailed(ILogger logger, Uri tracker, string reason);

    [LoggerMessage(EventId = 4110, Level = LogLevel.Information, Message = "Local peer discovery listens on {Group} port {Port} on {Interfaces}")]
    public static partial void LsdListening(ILogger logger, IPAddress group, int port, string interfaces);

    [LoggerMessage(EventId = 4111, Level = LogLevel.Warning, Message = "Local peer discovery found no interface that is up, supports multicast and has an address; it joins one when a scan finds it")]
    public static partial void LsdNoInterface(ILogger logger);

    [LoggerMessage(EventId = 4112, Level = LogLevel.Warning, Message = "Could not join {Group} on {Interface}: {Error}")]
    public static partial void LsdJoinFailed(ILogger logger, string @interface, IPAddress group, System.Net.Sockets.SocketError error);

    [LoggerMessage(EventId = 4113, Level = LogLevel.Debug, Message = "Could not send a local peer announce on {Interface} to {Group}: {Error}")]
    public static partial void LsdSendFailed(ILogger logger, string @interface, IPEndPoint group, System.Net.Sockets.SocketError error);

    [LoggerMessage(EventId = 4114, Level = LogLevel.Debug, Message = "Receiving on {Group} failed: {Error}")]
    public static partial void LsdReceiveFailed(ILogger logger, IPEndPoint group, System.Net.Sockets.SocketError error);

    [LoggerMessage(EventId = 4115, Level = LogLevel.Debug, Message = "Local peer {Peer} announced {InfoHash}")]
    public static partial void LsdPeerFound(ILogger logger, IPEndPoint peer, InfoHash infoHash);

    [LoggerMessage(EventId = 4116, Level = LogLevel.Information, Message = "Local peer discovery left {Group} on {Interface}: it is gone or has no address")]
    public static partial void LsdLeft(ILogger logger, string @interface, IPAddress group);

    [LoggerMessage(EventId = 4117, Level = LogLevel.Debug, Message = "Leaving {Group} on {Interface} failed: {Error}")]
    public static partial void LsdLeaveFailed(ILogger logger, string @interface, IPAddress group, System.Net.Sockets.SocketError error);

    [LoggerMessage(EventId = 4118, Level = LogLevel.Warning, Message = "Local peer discovery gets no network change notifications ({Reason}); it scans the interfaces every {Interval}")]
    public static partial void LsdNoChangeNotifications(ILogger logger, string reason, TimeSpan interval);

    [LoggerMessage(EventId = 4119, Level = LogLevel.Warning, Message = "Local peer discovery could not list the network interfaces: {Reason}")]
    public static partial void LsdScanFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 4120, Level = LogLevel.Information, Message = "Embedded tracker listening on {EndPoint}")]
    public static partial void TrackerListening(ILogger logger, IPEndPoint endPoint);

    [LoggerMessage(EventId = 4121, Level = LogLevel.Debug, Message = "Embedded tracker could not accept a connection: {Error}")]
    public static partial void TrackerAcceptFailed(ILogger logger, System.Net.Sockets.SocketError error);

    [LoggerMessage(EventId = 4122, Level = LogLevel.Debug, Message = "Embedded tracker connection failed: {Error}")]
    public static partial void TrackerConnectionFailed(ILogger logger, System.Net.Sockets.SocketError error);

    [LoggerMessage(EventId = 4123, Level = LogLevel.Debug, Message = "Embedded tracker: {Peer} announced {InfoHash} ({Event}); {PeerCount} peers returned")]
    public static partial void TrackerServedAnnounce(ILogger logger, IPEndPoint peer, InfoHash infoHash, AnnounceEvent @event, int peerCount);

    [LoggerMessage(EventId = 4124, Level = LogLevel.Debug, Message = "Embedded tracker closed a connection from {Address}: it already holds its share of connections")]
    public static partial void TrackerRefusedConnection(ILogger logger, IPAddress address);

    [LoggerMessage(EventId = 4130, Level = LogLevel.Warning, Message = "Tracker {Tracker} is skipped: only http, https and udp trackers are supported")]
    public static partial void TrackerSchemeUnsupported(ILogger logger, Uri tracker);
}

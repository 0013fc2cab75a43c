using System.Net;
using Microsoft.Extensions.Logging;

namespace BlockTorrent.Wire;

/// <summary>Log messages of the peer wire layer. Event ids 3000–3099.</summary>
internal static partial class Log
{
    [LoggerMessage(3000, LogLevel.Debug, "Connected to peer {EndPoint} ({Direction}), client id {PeerId}, features {Features}.")]
    public static partial void Connected(ILogger logger, EndPoint? endPoint, string direction, string peerId, HandshakeFeatures features);

    [LoggerMessage(3001, LogLevel.Debug, "Connection to peer {EndPoint} closed: {Reason}.")]
    public static partial void Closed(ILogger logger, EndPoint? endPoint, PeerCloseReason reason, Exception? exception);

    [LoggerMessage(3002, LogLevel.Information, "Peer {EndPoint} broke the protocol ({Error}); closing the connection.")]
    public static partial void ProtocolViolation(ILogger logger, EndPoint? endPoint, WireError error);

    [LoggerMessage(3003, LogLevel.Error, "A message handler failed on the connection to {EndPoint}; closing it.")]
    public static partial void HandlerFailed(ILogger logger, EndPoint? endPoint, Exception exception);

    [LoggerMessage(3004, LogLevel.Debug, "Incoming connection from {EndPoint} failed its handshake.")]
    public static partial void IncomingHandshakeFailed(ILogger logger, EndPoint? endPoint, Exception exception);

    [LoggerMessage(3005, LogLevel.Information, "Listening for peers on {EndPoint}.")]
    public static partial void Listening(ILogger logger, EndPoint? endPoint);

    [LoggerMessage(3006, LogLevel.Warning, "Refused an incoming connection from {EndPoint}: {Pending} handshakes are already in progress.")]
    public static partial void TooManyPendingHandshakes(ILogger logger, EndPoint? endPoint, int pending);

    [LoggerMessage(3007, LogLevel.Warning, "Accepting peer connections on {EndPoint} failed.")]
    public static partial void AcceptFailed(ILogger logger, EndPoint? endPoint, Exception exception);

    [LoggerMessage(3008, LogLevel.Debug, "Peer {EndPoint} sent an extension message we did not advertise (id {ExtensionId}); ignored.")]
    public static partial void UnknownExtension(ILogger logger, EndPoint? endPoint, byte extensionId);
}

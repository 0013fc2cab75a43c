namespace BlockTorrent.Wire;

/// <summary>Why a <see cref="PeerConnection"/> closed.</summary>
internal enum PeerCloseReason
{
    /// <summary>The connection is still open.</summary>
    None,

    /// <summary>We closed it (<see cref="PeerConnection.Close"/> or dispose).</summary>
    Local,

    /// <summary>The peer closed the TCP connection.</summary>
    RemoteClosed,

    /// <summary>The peer broke the protocol; <see cref="PeerConnection.ProtocolError"/> says how.</summary>
    ProtocolError,

    /// <summary>Nothing arrived, not even a keep-alive, for <see cref="PeerConnectionOptions.IdleTimeout"/>.</summary>
    IdleTimeout,

    /// <summary>The socket failed; <see cref="PeerConnection.CloseException"/> holds the error.</summary>
    SocketError,

    /// <summary>A handler or block sink callback threw; <see cref="PeerConnection.CloseException"/> holds the exception.</summary>
    HandlerFailed,
}

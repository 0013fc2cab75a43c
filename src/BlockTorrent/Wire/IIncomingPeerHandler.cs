namespace BlockTorrent.Wire;

/// <summary>
/// Decides what a <see cref="PeerListener"/> does with an incoming connection: which torrent it is for, and who takes
/// it once the handshake is done. The swarm implements it once for all the torrents it serves.
/// </summary>
internal interface IIncomingPeerHandler
{
    /// <summary>
    /// Chooses our answer to an incoming handshake. Called on the listener's task; must not block.
    /// </summary>
    /// <param name="infoHash">The 20-byte info-hash the peer named: a v1 info-hash or a truncated v2 one.</param>
    /// <param name="remoteFeatures">The peer's reserved bits (a hybrid torrent may answer a v1 hash with its v2 hash when <see cref="HandshakeFeatures.V2"/> is set).</param>
    /// <returns>Our handshake for that torrent, or <see langword="null"/> to refuse the connection.</returns>
    PeerHandshake? GetHandshake(ReadOnlySpan<byte> infoHash, HandshakeFeatures remoteFeatures);

    /// <summary>
    /// Takes a connection whose handshake is complete. The handler owns it from now on: it must
    /// <see cref="PeerConnection.Start"/> or dispose it.
    /// </summary>
    /// <param name="connection">The connection; <see cref="PeerConnection.LocalHandshake"/> names the torrent.</param>
    void OnAccepted(PeerConnection connection);
}

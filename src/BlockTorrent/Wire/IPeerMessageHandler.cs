using System.Buffers;

namespace BlockTorrent.Wire;

/// <summary>
/// Receives what a <see cref="PeerConnection"/> reads, one callback per message (blocks of piece messages go to
/// the <see cref="IBlockSink"/> instead). This is where the swarm learns a peer's state.
/// </summary>
/// <remarks>
/// <para>
/// Callbacks run on the connection's receive loop, one at a time and in wire order; they must not block (start
/// asynchronous work and return). Spans and sequences passed in are slices of the receive buffer, valid only
/// during the call. The connection has already checked framing, lengths, piece indices against the piece count
/// (when known) and whether the fast extension / extension protocol were negotiated; semantics (a have for a
/// piece already announced, a request while choked) are the handler's to judge.
/// </para>
/// <para>
/// A callback that throws closes the connection with <see cref="PeerCloseReason.HandlerFailed"/>.
/// </para>
/// </remarks>
internal interface IPeerMessageHandler
{
    /// <summary>The peer choked us: it will not serve our requests (with the fast extension it rejects each pending one).</summary>
    /// <param name="connection">The connection.</param>
    void OnChoke(PeerConnection connection);

    /// <summary>The peer unchoked us: requests may be sent.</summary>
    /// <param name="connection">The connection.</param>
    void OnUnchoke(PeerConnection connection);

    /// <summary>The peer is interested in our pieces.</summary>
    /// <param name="connection">The connection.</param>
    void OnInterested(PeerConnection connection);

    /// <summary>The peer is not interested in our pieces.</summary>
    /// <param name="connection">The connection.</param>
    void OnNotInterested(PeerConnection connection);

    /// <summary>The peer has a piece (have).</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="piece">The piece index.</param>
    void OnHave(PeerConnection connection, int piece);

    /// <summary>
    /// The peer's bitfield: piece 0 is the high bit of the first byte. When the piece count is known the length is
    /// exactly ⌈count / 8⌉ and the spare bits are clear.
    /// </summary>
    /// <param name="connection">The connection.</param>
    /// <param name="bitfield">The bits; valid only during the call.</param>
    void OnBitfield(PeerConnection connection, ReadOnlySequence<byte> bitfield);

    /// <summary>The peer has every piece (BEP 6 have all).</summary>
    /// <param name="connection">The connection.</param>
    void OnHaveAll(PeerConnection connection);

    /// <summary>The peer has no piece (BEP 6 have none).</summary>
    /// <param name="connection">The connection.</param>
    void OnHaveNone(PeerConnection connection);

    /// <summary>The peer requests a block (length 1 to 16 KiB, offset not yet checked against the piece size).</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="block">The block.</param>
    void OnRequest(PeerConnection connection, BlockRequest block);

    /// <summary>The peer cancels a request.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="block">The block.</param>
    void OnCancel(PeerConnection connection, BlockRequest block);

    /// <summary>The peer will not serve one of our requests (BEP 6 reject request).</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="block">The block.</param>
    void OnRejectRequest(PeerConnection connection, BlockRequest block);

    /// <summary>The peer suggests a piece (BEP 6 suggest piece).</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="piece">The piece index.</param>
    void OnSuggestPiece(PeerConnection connection, int piece);

    /// <summary>The peer will serve a piece even while choking us (BEP 6 allowed fast).</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="piece">The piece index.</param>
    void OnAllowedFast(PeerConnection connection, int piece);

    /// <summary>The peer's DHT port (BEP 5).</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="port">The port.</param>
    void OnPort(PeerConnection connection, ushort port);

    /// <summary>
    /// The peer's BEP 10 extended handshake. <see cref="PeerConnection.RemoteExtensions"/> already reflects it when
    /// this is called.
    /// </summary>
    /// <param name="connection">The connection.</param>
    /// <param name="handshake">The handshake.</param>
    void OnExtendedHandshake(PeerConnection connection, ExtensionHandshake handshake);

    /// <summary>A BEP 9 ut_metadata message (request, data or reject).</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="message">The message; its data is valid only during the call.</param>
    void OnMetadata(PeerConnection connection, MetadataMessage message);

    /// <summary>A BEP 11 ut_pex message.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="message">The message (the handler may keep it).</param>
    void OnPex(PeerConnection connection, PexMessage message);

    /// <summary>A BEP 52 hash request.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="request">The request.</param>
    void OnHashRequest(PeerConnection connection, in HashRequest request);

    /// <summary>A BEP 52 hashes message: the base-layer hashes, then one uncle hash per proof layer.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="request">The request being answered.</param>
    /// <param name="hashes">The hashes, 32 bytes each; valid only during the call.</param>
    void OnHashes(PeerConnection connection, in HashRequest request, ReadOnlySequence<byte> hashes);

    /// <summary>A BEP 52 hash reject.</summary>
    /// <param name="connection">The connection.</param>
    /// <param name="request">The rejected request.</param>
    void OnHashReject(PeerConnection connection, in HashRequest request);

    /// <summary>
    /// The connection closed (once, after its loops ended and its socket was disposed). Nothing is called after this.
    /// </summary>
    /// <param name="connection">The connection; <see cref="PeerConnection.CloseReason"/> says why.</param>
    void OnClosed(PeerConnection connection);
}

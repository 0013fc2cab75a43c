using BlockTorrent.Swarm.Bandwidth;
using BlockTorrent.Swarm.Extensions;
using BlockTorrent.Wire;
using BlockTorrent.Writing;
using Microsoft.Extensions.Logging;

namespace BlockTorrent.Swarm;

/// <summary>
/// What a <see cref="PeerSession"/> asks of the swarm it belongs to: the session reports what its peer said and asks
/// what to do, and the swarm, which owns the policy (picker, piece buffers, super-seeding, choking, bans), decides.
/// </summary>
/// <remarks>
/// Every member takes the swarm's lock itself when it needs it, so a session never holds the swarm's lock and never
/// sees the swarm's state; the swarm updates the session's own per-peer state (<see cref="PeerSession.Pick"/>,
/// progress, request queue) under its lock.
/// </remarks>
internal interface ISessionHost
{
    /// <summary>Gets the torrent's piece count.</summary>
    int PieceCount { get; }

    /// <summary>Gets the settings the swarm runs with.</summary>
    SwarmSettings Settings { get; }

    /// <summary>Gets the clock.</summary>
    TimeProvider Time { get; }

    /// <summary>Gets the logger for swarm messages.</summary>
    ILogger Logger { get; }

    /// <summary>Gets the swarm's protocol extensions.</summary>
    ExtensionRegistry Extensions { get; }

    /// <summary>Gets how many requests we queue from one peer (advertised as <c>reqq</c>).</summary>
    int AdvertisedRequestQueue { get; }

    /// <summary>Gets a value indicating whether the swarm is stopping.</summary>
    bool IsStopping { get; }

    /// <summary>Gets the limit on what the swarm's connections upload (blocks are sent when it allows).</summary>
    RateLimit Upload { get; }

    /// <summary>Gets the limit on what the swarm downloads (blocks are requested when it allows).</summary>
    RateLimit Download { get; }

    /// <summary>The peer choked us: its requests go back to the picker.</summary>
    /// <param name="session">The session.</param>
    void OnChoked(PeerSession session);

    /// <summary>The peer unchoked us: the pipeline starts afresh.</summary>
    /// <param name="session">The session.</param>
    void OnUnchoked(PeerSession session);

    /// <summary>The peer's interest in us changed: the choker decides again.</summary>
    void OnInterestChanged();

    /// <summary>The peer has a piece (a have message).</summary>
    /// <param name="session">The session.</param>
    /// <param name="piece">The piece.</param>
    void OnHave(PeerSession session, int piece);

    /// <summary>The peer said which pieces it has (bitfield, have all, have none).</summary>
    /// <param name="session">The session.</param>
    /// <param name="message">The message.</param>
    /// <returns>A reason to close, or null.</returns>
    string? OnPieces(PeerSession session, PeerMessage message);

    /// <summary>The peer rejected one of our requests.</summary>
    /// <param name="session">The session.</param>
    /// <param name="block">The block.</param>
    void OnRejected(PeerSession session, BlockRequest block);

    /// <summary>The peer allows us a piece while it chokes us.</summary>
    /// <param name="session">The session.</param>
    /// <param name="piece">The piece.</param>
    void OnAllowedFast(PeerSession session, int piece);

    /// <summary>The peer sent an extended handshake.</summary>
    /// <param name="session">The session.</param>
    /// <param name="handshake">The handshake in force.</param>
    void OnExtendedHandshake(PeerSession session, ExtensionHandshake handshake);

    /// <summary>The connection closed.</summary>
    /// <param name="session">The session.</param>
    /// <param name="reason">Why.</param>
    void OnClosed(PeerSession session, string reason);

    /// <summary>Claims the destination of an arriving block, when we asked for it and its piece is in memory.</summary>
    /// <param name="session">The session.</param>
    /// <param name="block">The block.</param>
    /// <returns>Where the block's bytes go, or empty when the block is not wanted.</returns>
    Memory<byte> BeginBlock(PeerSession session, BlockRequest block);

    /// <summary>The block claimed by <see cref="BeginBlock"/> is copied: duplicates are cancelled, a full piece committed.</summary>
    /// <param name="session">The session.</param>
    /// <param name="block">The block.</param>
    void EndBlock(PeerSession session, BlockRequest block);

    /// <summary>Requests blocks of started pieces from the peer, up to its pipeline depth.</summary>
    /// <param name="session">The session.</param>
    /// <returns><see langword="true"/> when the pipeline still has room, so a new piece should be started.</returns>
    bool RequestBlocks(PeerSession session);

    /// <summary>Requests what it can, then picks a new piece to start for the peer.</summary>
    /// <param name="session">The session.</param>
    /// <param name="interrupt">Cancelled when blocks are released, a session closes or the swarm stops.</param>
    /// <returns>The piece, or -1 when none is to be started.</returns>
    int StartPiece(PeerSession session, out CancellationToken interrupt);

    /// <summary>Rents the memory of a started piece (waits while the memory in flight is at its limit).</summary>
    /// <param name="piece">The piece.</param>
    /// <param name="cancellationToken">The interrupt from <see cref="StartPiece"/>.</param>
    /// <returns>The piece's buffer.</returns>
    ValueTask<PieceBuffer> RentAsync(int piece, CancellationToken cancellationToken);

    /// <summary>Gives back a started piece whose memory was not rented.</summary>
    /// <param name="piece">The piece.</param>
    void AbandonPiece(int piece);

    /// <summary>A started piece's memory is rented: its blocks may be requested.</summary>
    /// <param name="piece">The piece.</param>
    /// <param name="buffer">Its buffer.</param>
    void PieceReady(int piece, PieceBuffer buffer);

    /// <summary>Gets a value indicating whether we have a piece to serve.</summary>
    /// <param name="piece">The piece.</param>
    /// <returns>Whether we have it.</returns>
    bool Has(int piece);

    /// <summary>
    /// The peer requested a block: whether it is one we have and lies within its piece. A super-seed counts the piece as
    /// on its way to the peer from then on.
    /// </summary>
    /// <param name="session">The peer.</param>
    /// <param name="block">The block.</param>
    /// <returns>Whether it may be served.</returns>
    bool CanServe(PeerSession session, BlockRequest block);

    /// <summary>Gets a value indicating whether a piece is all zeros (served without reading the device).</summary>
    /// <param name="piece">The piece.</param>
    /// <returns>Whether it is.</returns>
    bool IsZeroPiece(int piece);

    /// <summary>Reads a piece to serve from the device, through the read cache.</summary>
    /// <param name="piece">The piece.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    /// <returns>The lease on the piece's bytes.</returns>
    ValueTask<PieceReadCache.Lease> ReadPieceAsync(int piece, CancellationToken cancellationToken);

    /// <summary>Counts payload sent.</summary>
    /// <param name="bytes">The bytes.</param>
    void CountUpload(int bytes);

    /// <summary>Counts payload received.</summary>
    /// <param name="bytes">The bytes.</param>
    void CountDownload(int bytes);

    /// <summary>Counts payload received that was not wanted.</summary>
    /// <param name="bytes">The bytes.</param>
    void CountWasted(int bytes);
}

using BlockTorrent.Manifest;
using Microsoft.Extensions.Logging;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm;

/// <summary>
/// A super-seeding swarm's offers: every peer's pieces are registered with the <see cref="SuperSeeder"/>, and what it
/// decides to offer is sent as HAVE messages, when a peer arrives, announces a piece, or (once a second) may have
/// waited long enough. A peer the super-seeder opens (adaptive seeding: it passes nothing on) is told every piece we
/// hold instead, as a plain seed's bitfield would have, and requests freely from then on. A stream target that tells
/// us its decoder's window (<c>bt_stream_window</c>) is offered only pieces inside it.
/// </summary>
/// <remarks>Not thread-safe: the swarm calls it under its lock.</remarks>
internal sealed class SuperSeedOffers
{
    private readonly SuperSeeder _seeder;
    private readonly TimeProvider _time;
    private readonly Bitfield _have;
    private readonly ILogger _logger;

    /// <summary>Initializes a new instance for one torrent.</summary>
    /// <param name="manifest">The torrent: its piece count, size and duplicates.</param>
    /// <param name="time">The swarm's clock.</param>
    /// <param name="have">The pieces we hold (kept up to date by the swarm): what an opened peer is told.</param>
    /// <param name="logger">The swarm's logger.</param>
    /// <param name="adaptive">Whether peers that pass nothing on are opened (<see cref="SuperSeedMode.Adaptive"/>).</param>
    public SuperSeedOffers(TorrentManifest manifest, TimeProvider time, Bitfield have, ILogger logger, bool adaptive)
    {
        _time = time;
        _have = have;
        _logger = logger;
        _seeder = SuperSeeder.ForTorrent(manifest.PieceCount, manifest.PieceLength, time.TimestampFrequency, manifest.GetCanonicalPiece, adaptive);
    }

    /// <summary>A peer told us its pieces (bitfield, have-all or have-none): it joins the offers and gets its first.</summary>
    /// <param name="session">The peer.</param>
    public void OnPeerPieces(PeerSession session)
    {
        if (session.Seeding is null)
        {
            session.Seeding = new SuperSeeder.Peer(session.Pick.Has);
            if (session.RemoteWindow is { } window)
            {
                _seeder.SetWindow(session.Seeding, window.Start, window.End);
            }

            _seeder.AddPeer(session.Seeding);
        }

        Offer(session);
    }

    /// <summary>
    /// A peer told us its stream window (<see cref="PeerSession.RemoteWindow"/>): it is offered only pieces inside it
    /// from now on, and the window may have moved onto pieces it can be offered now.
    /// </summary>
    /// <param name="session">The peer.</param>
    public void OnPeerWindow(PeerSession session)
    {
        if (session.Seeding is null || session.RemoteWindow is not { } window)
        {
            return;
        }

        _seeder.SetWindow(session.Seeding, window.Start, window.End);
        Offer(session);
    }

    /// <summary>A peer announced a piece: it may be due more offers, and so may the peer it passed that piece on from.</summary>
    /// <param name="session">The peer.</param>
    /// <param name="piece">The piece it announced.</param>
    /// <param name="sessions">Every connected peer.</param>
    public void OnPeerHave(PeerSession session, int piece, List<PeerSession> sessions)
    {
        if (session.Seeding is null)
        {
            return;
        }

        if (_seeder.PeerHave(session.Seeding, piece, _time.GetTimestamp()))
        {
            // Someone else's piece counts as passed on now: that peer may be due more offers.
            foreach (PeerSession other in sessions)
            {
                if (!ReferenceEquals(other, session))
                {
                    Offer(other);
                }
            }
        }

        Offer(session);
    }

    /// <summary>A peer requested a block of a piece: an offer of it is on its way now, and the peer is not idle.</summary>
    /// <param name="session">The peer.</param>
    /// <param name="piece">The block's piece.</param>
    public void OnPeerRequest(PeerSession session, int piece)
    {
        if (session.Seeding is { } seeding)
        {
            _seeder.PeerRequested(seeding, piece, _time.GetTimestamp());
        }
    }

    /// <summary>We no longer hold a piece: it is offered to nobody from now on.</summary>
    /// <param name="piece">The piece.</param>
    public void Withdraw(int piece) => _seeder.Withdraw(piece);

    /// <summary>A peer left: its open offers and unforwarded pieces no longer count.</summary>
    /// <param name="session">The peer.</param>
    public void OnPeerClosed(PeerSession session)
    {
        if (session.Seeding is not null)
        {
            _seeder.RemovePeer(session.Seeding);
        }
    }

    /// <summary>Once a second: an unforwarded piece, or the first pass, may have been waited for long enough.</summary>
    /// <param name="session">The peer.</param>
    public void OnTick(PeerSession session)
    {
        if (session.Seeding is { } seeding && (seeding.HoldsUnforwarded || _seeder.FirstCopiesInFlight > 0))
        {
            Offer(session);
        }
    }

    private void Offer(PeerSession session)
    {
        if (session.Seeding is null)
        {
            return;
        }

        long now = _time.GetTimestamp();
        if (_seeder.ShouldOpen(session.Seeding, now))
        {
            Open(session);
            return;
        }

        while (true)
        {
            int piece = _seeder.NextOffer(session.Seeding, now);
            if (piece < 0)
            {
                return;
            }

            session.Send(new Outgoing(MessageId.Have, new BlockRequest(piece, 0, 0)));
        }
    }

    // The peer does not pass our pieces on (it is alone, or cannot reach the others): offers would only cap it at a
    // few pieces in flight, so it is told every piece it has not been told yet.
    private void Open(PeerSession session)
    {
        SuperSeeder.Peer seeding = session.Seeding!;
        var told = new Bitfield(seeding.Has);
        foreach (int piece in seeding.Offers)
        {
            told.Set(piece);
        }

        _seeder.Open(seeding);
        Log.PeerOpened(_logger, session.Remote, _seeder.OpenedPeers);
        foreach (int piece in _have.SetIndices())
        {
            if (!told[piece])
            {
                session.Send(new Outgoing(MessageId.Have, new BlockRequest(piece, 0, 0)));
            }
        }
    }
}

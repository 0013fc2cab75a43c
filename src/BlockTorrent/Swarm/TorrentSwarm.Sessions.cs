using System.Buffers;
using BlockTorrent.Wire;
using BlockTorrent.Writing;

namespace BlockTorrent.Swarm;

/// <summary>
/// The swarm as its sessions see it (<see cref="ISessionHost"/>): what a peer said becomes the swarm's decision here,
/// each member under the swarm's lock, so no session takes the lock or reads the swarm's state itself.
/// </summary>
internal sealed partial class TorrentSwarm
{
    // Reused under the lock for every block that completes a request another peer also has.
    private readonly List<PieceCancel> _cancels = [];

    /// <inheritdoc/>
    public void OnChoked(PeerSession session)
    {
        lock (Sync)
        {
            session.Pick.IsChokingUs = true;
            RefundReleasedLocked(session.Pick);
            InterruptRentsLocked();
        }
    }

    /// <summary>
    /// Releases a peer's outstanding requests (it choked us, or stalled) and gives their bytes back to the download
    /// cap, which they took when they were sent: they will not bring them, as a rejected request will not.
    /// </summary>
    private void RefundReleasedLocked(PickerPeer peer)
    {
        if (Picker is { } picker)
        {
            picker.ReleaseRequests(peer, out long bytes);
            Download.Refund(bytes);
        }
    }

    /// <inheritdoc/>
    public void OnUnchoked(PeerSession session)
    {
        lock (Sync)
        {
            session.Pick.IsChokingUs = false;
            session.Queue.Reset();
            session.LastProgress = Time.GetTimestamp();
        }
    }

    /// <inheritdoc/>
    public void OnInterestChanged() => RunChoker();

    /// <inheritdoc/>
    public void OnHave(PeerSession session, int piece)
    {
        lock (Sync)
        {
            if (!session.GotPieces)
            {
                session.GotPieces = true;
                Picker?.AddPeer(session.Pick);
            }

            Picker?.PeerHave(session.Pick, piece);
            _offers?.OnPeerHave(session, piece, _sessions);
        }
    }

    /// <inheritdoc/>
    public string? OnPieces(PeerSession session, PeerMessage message)
    {
        PickerPeer pick = session.Pick;
        lock (Sync)
        {
            if (session.GotPieces)
            {
                // aria2 announces what it gained by a whole new bitfield (or have-all once complete) rather than
                // many HAVEs: take the new bits as HAVEs. A late have-none could only take pieces away: refused.
                return message.Id == MessageId.HaveNone ? "a second bitfield" : OnLaterPiecesLocked(session, message);
            }

            session.GotPieces = true;
            if (message.Id == MessageId.HaveAll)
            {
                pick.Has.SetAll();
            }
            else if (message.Id == MessageId.Bitfield)
            {
                byte[] bits = message.Payload.ToArray();
                if (!pick.Has.TryLoadWire(bits))
                {
                    return "an invalid bitfield";
                }
            }

            Picker?.AddPeer(pick);
            _offers?.OnPeerPieces(session);
        }

        return null;
    }

    /// <inheritdoc/>
    public void OnRejected(PeerSession session, BlockRequest block)
    {
        lock (Sync)
        {
            // The request took its bytes from the download cap when it was sent; a rejected one will never bring
            // them, so they go back (only for a request of ours still outstanding: a peer cannot make up rejects).
            if (Picker?.ReleaseRequest(session.Pick, block) == true)
            {
                Download.Refund(block.Length);
            }

            InterruptRentsLocked();
        }
    }

    /// <inheritdoc/>
    public void OnAllowedFast(PeerSession session, int piece)
    {
        lock (Sync)
        {
            if (session.Pick.AllowedFast.Count < 64)
            {
                session.Pick.AllowedFast.Add(piece);
            }
        }
    }

    /// <inheritdoc/>
    public Memory<byte> BeginBlock(PeerSession session, BlockRequest block)
    {
        lock (Sync)
        {
            return ClaimBlockLocked(session.Pick, block);
        }
    }

    /// <inheritdoc/>
    public void EndBlock(PeerSession session, BlockRequest block)
    {
        lock (Sync)
        {
            bool complete = ReceiveBlockLocked(session.Pick, block);

            long now = Time.GetTimestamp();
            session.LastProgress = now;
            session.Stalls = 0;
            session.Queue.OnBlockReceived(block.Length, now);
            if (complete)
            {
                CommitLocked(block.Piece);
            }
        }
    }

    /// <inheritdoc/>
    public bool RequestBlocks(PeerSession session)
    {
        lock (Sync)
        {
            return RequestBlocksLocked(session);
        }
    }

    /// <inheritdoc/>
    public int StartPiece(PeerSession session, out CancellationToken interrupt)
    {
        lock (Sync)
        {
            interrupt = _rentInterrupt.Token;
            return RequestBlocksLocked(session) ? Picker!.StartPiece(session.Pick) : -1;
        }
    }

    /// <inheritdoc/>
    public ValueTask<PieceBuffer> RentAsync(int piece, CancellationToken cancellationToken) => Writer!.RentAsync(piece, cancellationToken);

    /// <inheritdoc/>
    public void AbandonPiece(int piece)
    {
        lock (Sync)
        {
            Picker?.AbandonPiece(piece);
        }
    }

    /// <inheritdoc/>
    public void PieceReady(int piece, PieceBuffer buffer)
    {
        lock (Sync)
        {
            if (Picker is { } picker && picker.MarkReady(piece))
            {
                Buffers[piece] = buffer;
                CommitIfLocalLocked(piece);
            }
            else
            {
                buffer.Dispose();
            }
        }
    }

    /// <inheritdoc/>
    public bool Has(int piece)
    {
        lock (Sync)
        {
            return Picker!.Have[piece];
        }
    }

    /// <inheritdoc/>
    public bool CanServe(PeerSession session, BlockRequest block)
    {
        lock (Sync)
        {
            bool valid = Picker!.Have[block.Piece] && (long)block.Offset + block.Length <= ServableSize(block.Piece);
            if (valid)
            {
                _offers?.OnPeerRequest(session, block.Piece);
            }

            return valid;
        }
    }

    /// <inheritdoc/>
    public bool IsZeroPiece(int piece) => Manifest.IsZeroPiece(piece);

    /// <inheritdoc/>
    public ValueTask<PieceReadCache.Lease> ReadPieceAsync(int piece, CancellationToken cancellationToken) => ReadCache!.GetAsync(piece, cancellationToken);

    private void SendCancelLocked(PieceCancel cancel)
    {
        foreach (PeerSession s in _sessions)
        {
            if (ReferenceEquals(s.Pick, cancel.Peer))
            {
                s.Send(new Outgoing(MessageId.Cancel, cancel.Block));
                return;
            }
        }
    }

    private bool RequestBlocksLocked(PeerSession session) =>
        Picker is { } picker && Writer is not null && session.Requests.RequestLocked(picker);

    private string? OnLaterPiecesLocked(PeerSession session, PeerMessage message)
    {
        PickerPeer pick = session.Pick;
        Bitfield? later;
        if (message.Id == MessageId.HaveAll)
        {
            later = new Bitfield(pick.Has.Length);
            later.SetAll();
        }
        else if (!Bitfield.TryReadWire(message.Payload.ToArray(), pick.Has.Length, out later))
        {
            return "an invalid bitfield";
        }

        for (int i = later.NextSet(0); i >= 0; i = later.NextSet(i + 1))
        {
            if (pick.Has[i])
            {
                continue;
            }

            if (Picker is { } picker)
            {
                picker.PeerHave(pick, i);
            }
            else
            {
                pick.Has.Set(i);
            }

            _offers?.OnPeerHave(session, i, _sessions);
        }

        return null;
    }
}

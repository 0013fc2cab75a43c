using BlockTorrent.Wire;
using BlockTorrent.Writing;

namespace BlockTorrent.Swarm;

/// <summary>
/// Piece commits: a completed piece goes to the writer, and its outcome comes back here. A verified piece (with the
/// copies of it the writer filled in) is announced to every peer; a failed one is picked again, and the peer that
/// alone sent it is banned after <see cref="SwarmSettings.MaxHashFailuresPerPeer"/> such pieces.
/// </summary>
internal sealed partial class TorrentSwarm
{
    private int _pendingCommits;
    private int _hashFailures;
    private int _piecesDownloaded;

    /// <summary>Hands a completed piece's buffer to the writer; the outcome is handled when the writer is done.</summary>
    private void CommitLocked(int piece)
    {
        if (!Buffers.Remove(piece, out PieceBuffer? buffer))
        {
            return;
        }

        _pendingCommits++;
        _ = CommitAsync(piece, buffer);
    }

    private async Task CommitAsync(int piece, PieceBuffer buffer)
    {
        PieceWriteResult result;
        try
        {
            result = await Writer!.CommitAsync(buffer, source: null, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException || IsStopping)
        {
            lock (Sync)
            {
                _pendingCommits--;
                Picker?.AbandonPiece(piece);
            }

            return;
        }
        catch (Exception e)
        {
            // The device failed (whatever a user's IBlockDevice throws: nothing else observes this task, and a
            // deployment left waiting for the piece would hang), or the manifest's halves disagree about a piece
            // (PieceWriterOptions.VerifyAllHashes): the deployment cannot complete.
            _completed.TrySetException(e);
            return;
        }

        var written = new List<int>();
        lock (Sync)
        {
            _pendingCommits--;
            PiecePicker picker = Picker!;
            if (result.Status == PieceWriteStatus.HashMismatch)
            {
                OnHashFailureLocked(piece);
            }
            else
            {
                _piecesDownloaded++;
                picker.PieceFinished(piece, verified: true);
                written.Add(piece);
                for (int member = _copies.Next(piece); member >= 0; member = _copies.Next(member))
                {
                    if (Writer!.HasPiece(member) && picker.MarkHave(member))
                    {
                        written.Add(member);
                    }
                }

                foreach (PeerSession s in _sessions)
                {
                    foreach (int p in written)
                    {
                        if (_offers is null)
                        {
                            s.Send(new Outgoing(MessageId.Have, new BlockRequest(p, 0, 0)));
                        }
                    }

                    if (!picker.IsInteresting(s.Pick) && s.Pick.Outstanding == 0)
                    {
                        s.UpdateInterest(false);
                    }
                }
            }

            // After the failure is counted, so a web seed that just reached its limit is seen dropped by its fetch loop.
            OnWebSeedVerdictLocked(piece);
            CheckCompleteLocked();
        }

        foreach (int p in written)
        {
            _host.Publish(new SwarmEvent(SwarmEventKind.PieceVerified, InfoHashText) { Piece = p });
        }
    }

    private void OnHashFailureLocked(int piece)
    {
        PiecePicker picker = Picker!;
        _hashFailures++;
        var contributors = picker.Contributors(piece).ToArray();
        picker.PieceFinished(piece, verified: false);
        Log.PieceFailed(Logger, piece, contributors.Length);
        _host.Publish(new SwarmEvent(SwarmEventKind.PieceFailed, InfoHashText) { Piece = piece });
        if (contributors.Length == 1 && !OnWebSeedHashFailureLocked(contributors[0]))
        {
            PeerSession? culprit = _sessions.Find(s => ReferenceEquals(s.Pick, contributors[0]));
            if (culprit is not null && ++culprit.HashFailures >= Settings.MaxHashFailuresPerPeer)
            {
                bool wholeAddress = _banned.Ban(culprit.Remote, culprit.ReachableAt, culprit.PeerId);
                Log.PeerBanned(Logger, culprit.Remote, culprit.HashFailures, wholeAddress ? "its address, the second peer banned there" : "this peer only, not others at its address");
                SwarmMetrics.PeersBanned.Add(1);
                RecordBanLocked(culprit, piece);
                _host.Publish(new SwarmEvent(SwarmEventKind.PeerBanned, InfoHashText) { Peer = culprit.Remote });
                ThreadPool.UnsafeQueueUserWorkItem(s => s.Close("banned for sending corrupt pieces"), culprit, preferLocal: false);
            }
        }

        InterruptRentsLocked();
        foreach (PeerSession s in _sessions)
        {
            s.Signal();
        }
    }

    private void CheckCompleteLocked()
    {
        if (Picker!.IsComplete && !_checking && _pendingCommits == 0 && Buffers.Count == 0 && _completed.TrySetResult())
        {
            _host.Publish(new SwarmEvent(SwarmEventKind.Completed, InfoHashText));
            foreach (PeerSession s in _sessions)
            {
                s.UpdateInterest(false);
            }
        }
    }
}

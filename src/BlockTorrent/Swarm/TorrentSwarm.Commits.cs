using BlockTorrent.Manifest;
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
    private long _bytesFilledLocally;

    // The pieces a verified piece put on the device (it and its copies), reused under the lock for every commit.
    private readonly List<int> _written = [];

    /// <summary>Gets the bytes of fetched pieces that were filled in locally (zero and repeated blocks) rather than downloaded.</summary>
    public long BytesFilledLocally => Interlocked.Read(ref _bytesFilledLocally);

    /// <summary>Commits a piece that became ready complete: every block of it is local.</summary>
    private void CommitIfLocalLocked(int piece)
    {
        if (Picker!.Progress(piece) is { IsComplete: true })
        {
            CommitLocked(piece);
        }
    }

    /// <summary>Hands a completed piece's buffer to the writer; the outcome is handled when the writer is done.</summary>
    private void CommitLocked(int piece)
    {
        if (!Buffers.Remove(piece, out PieceBuffer? buffer))
        {
            return;
        }

        // Zero blocks and copies of blocks of this piece are filled in here; copies of other pieces' blocks, which
        // must be read, before the commit. The progress is complete, so none of its blocks changes any more.
        PieceProgress? local = Picker!.Progress(piece) is { LocalCount: > 0 } p && FillLocalBlocks(p, buffer.Memory.Span) ? p : null;
        _pendingCommits++;
        _ = CommitAsync(piece, buffer, local);
    }

    // Fills a piece's zero blocks and in-piece copies; returns whether blocks from other pieces remain to be read.
    private bool FillLocalBlocks(PieceProgress progress, Span<byte> piece)
    {
        long first = (long)progress.Piece * (Manifest.PieceLength / BlockMap.BlockSize);
        bool others = false;
        for (int b = 0; b < progress.BlockCount; b++)
        {
            if (!progress.IsLocal(b))
            {
                continue;
            }

            long source = progress.LocalSource(b);
            Span<byte> block = piece.Slice(b * BlockMap.BlockSize, BlockMap.BlockSize);
            if (source == BlockMap.Zero)
            {
                block.Clear();
            }
            else if (source >= first && source < first + progress.BlockCount)
            {
                piece.Slice((int)(source - first) * BlockMap.BlockSize, BlockMap.BlockSize).CopyTo(block);
            }
            else
            {
                others = true;
            }
        }

        return others;
    }

    // Copies a piece's blocks that repeat blocks of pieces we have, read back through the read cache (as served).
    private async Task<bool> CopyHeldBlocksAsync(PieceProgress progress, PieceBuffer buffer, CancellationToken ct)
    {
        int blocksPerPiece = Manifest.PieceLength / BlockMap.BlockSize;
        long first = (long)progress.Piece * blocksPerPiece;
        for (int b = 0; b < progress.BlockCount; b++)
        {
            long source = progress.IsLocal(b) ? progress.LocalSource(b) : BlockMap.Zero;
            if (source == BlockMap.Zero || (source >= first && source < first + progress.BlockCount))
            {
                continue;
            }

            int sourcePiece = (int)(source / blocksPerPiece);
            using PieceReadCache.Lease lease = await ReadCache!.GetAsync(sourcePiece, ct).ConfigureAwait(false);
            int offset = (int)(source - ((long)sourcePiece * blocksPerPiece)) * BlockMap.BlockSize;
            if (!lease.IsValid || offset + BlockMap.BlockSize > lease.Span.Length)
            {
                return false;
            }

            lease.Span.Slice(offset, BlockMap.BlockSize).CopyTo(buffer.Memory.Span.Slice(b * BlockMap.BlockSize, BlockMap.BlockSize));
        }

        return true;
    }

    // A source that cannot be read back (a device that does not serve it, or fails) only means the piece is fetched
    // whole; the buffer is still ours until it is committed, so it is given back when the copy is cancelled.
    private async Task<bool> TryCopyHeldBlocksAsync(PieceProgress local, PieceBuffer buffer)
    {
        try
        {
            return await CopyHeldBlocksAsync(local, buffer, _stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or NotSupportedException or InvalidOperationException && !IsStopping)
        {
            return false;
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    private async Task CommitAsync(int piece, PieceBuffer buffer, PieceProgress? local)
    {
        PieceWriteResult result;
        try
        {
            if (local is not null && !await TryCopyHeldBlocksAsync(local, buffer).ConfigureAwait(false))
            {
                buffer.Dispose();
                lock (Sync)
                {
                    _pendingCommits--;
                    OnLocalFillFailedLocked(piece);
                }

                return;
            }

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

        int[]? verified = null;
        lock (Sync)
        {
            _pendingCommits--;
            PiecePicker picker = Picker!;
            if (result.Status == PieceWriteStatus.HashMismatch && picker.Progress(piece) is { LocalCount: > 0 })
            {
                _hashFailures++;
                OnLocalFillFailedLocked(piece);
            }
            else if (result.Status == PieceWriteStatus.HashMismatch)
            {
                OnHashFailureLocked(piece);
            }
            else
            {
                if (++_piecesDownloaded == 1)
                {
                    Interlocked.Exchange(ref _firstPieceAt, Time.GetTimestamp());
                }

                _bytesFilledLocally += (long)(picker.Progress(piece)?.LocalCount ?? 0) * BlockMap.BlockSize;
                picker.PieceFinished(piece, verified: true);
                List<int> written = _written;
                written.Clear();
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

                if (_host.HasEventWatchers)
                {
                    verified = [.. written];
                }
            }

            // After the failure is counted, so a web seed that just reached its limit is seen dropped by its fetch loop.
            OnWebSeedVerdictLocked(piece);
            CheckCompleteLocked();
        }

        foreach (int p in verified ?? [])
        {
            _host.Publish(new SwarmEvent(SwarmEventKind.PieceVerified, InfoHashText) { Piece = p });
        }
    }

    // A piece with local blocks that failed: the map (outside the info-hash) or a copied block may be wrong, so
    // nobody is blamed; the piece is fetched whole from now on, and a peer sending it wrong is then blamed as usual.
    private void OnLocalFillFailedLocked(int piece)
    {
        Log.LocalBlocksFailed(Logger, piece);
        _host.Publish(new SwarmEvent(SwarmEventKind.PieceFailed, InfoHashText) { Piece = piece });
        Picker!.LocalFillFailed(piece);
        OnWebSeedVerdictLocked(piece);
        InterruptRentsLocked();
        foreach (PeerSession s in _sessions)
        {
            s.Signal();
        }

        CheckCompleteLocked();
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

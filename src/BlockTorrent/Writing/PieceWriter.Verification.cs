using System.Threading.Channels;
using BlockTorrent.Diagnostics;

namespace BlockTorrent.Writing;

/// <summary>The verification stage: workers hash committed pieces against the manifest before anything is written.</summary>
public sealed partial class PieceWriter
{
    // Runs on a dedicated thread per worker (see the constructor): hashing takes milliseconds per piece, and on the
    // thread pool it would hold the threads that the device's writes and the swarm's sockets need, so a write could
    // wait behind a run of verifications and the stages would take turns instead of overlapping. The verify queue
    // allows synchronous continuations, so a commit wakes a waiting worker directly, without a pool thread.
    private void VerifyLoop()
    {
        ChannelReader<PieceBuffer> reader = _verifyQueue.Reader;
        CancellationToken stop = _shutdown.Token;
        while (WaitToRead(reader, stop))
        {
            while (!stop.IsCancellationRequested && reader.TryRead(out PieceBuffer? buffer))
            {
                Verify(buffer);
            }
        }
    }

    private static bool WaitToRead(ChannelReader<PieceBuffer> reader, CancellationToken stop)
    {
        ValueTask<bool> wait = reader.WaitToReadAsync(stop);
        return wait.IsCompletedSuccessfully ? wait.Result : wait.AsTask().GetAwaiter().GetResult();
    }

    private void Verify(PieceBuffer buffer)
    {
        if (buffer.Token.IsCancellationRequested)
        {
            Cancel(buffer, buffer.Token);
            return;
        }

        // Hashed even when the piece is already on the device: a peer that sends wrong bytes is reported as such.
        int piece = buffer.Piece;
        bool ok;
        try
        {
            ok = PieceVerification.Verify(_manifest, piece, buffer.Data.Span, _options.VerifyAllHashes);
        }
        catch (Exception ex)
        {
            // A manifest that throws cannot vouch for the bytes: they are rejected, and the caller sees why.
            Log.VerificationFailed(_logger, ex, piece);
            Fail(buffer, ex);
            return;
        }

        if (!ok)
        {
            Interlocked.Increment(ref _piecesRejected);
            BlockTorrentMetrics.PiecesFailed.Add(1);
            Log.PieceRejected(_logger, piece, buffer.Source);
            Finish(buffer, PieceWriteStatus.HashMismatch);
            return;
        }

        Interlocked.Increment(ref _piecesVerified);
        BlockTorrentMetrics.PiecesVerified.Add(1);
        if (GroupOnDevice(piece))
        {
            Finish(buffer, PieceWriteStatus.AlreadyWritten);
            return;
        }

        if (!_writeQueue.Writer.TryWrite(buffer))
        {
            Cancel(buffer, _shutdown.Token);
        }
    }
}

using System.Threading.Channels;
using BlockTorrent.Diagnostics;

namespace BlockTorrent.Writing;

/// <summary>The verification stage: workers hash committed pieces against the manifest before anything is written.</summary>
public sealed partial class PieceWriter
{
    private async Task VerifyLoopAsync()
    {
        ChannelReader<PieceBuffer> reader = _verifyQueue.Reader;
        CancellationToken stop = _shutdown.Token;
        while (await reader.WaitToReadAsync(stop).ConfigureAwait(false))
        {
            while (!stop.IsCancellationRequested && reader.TryRead(out PieceBuffer? buffer))
            {
                Verify(buffer);

                // Hashing holds a pool thread for milliseconds; giving it back between pieces keeps network
                // continuations (the swarm's sockets) from queueing behind a long run of verifications.
                await Task.Yield();
            }
        }
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

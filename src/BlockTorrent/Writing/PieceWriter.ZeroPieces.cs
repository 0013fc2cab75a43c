using BlockTorrent.Buffers;
using BlockTorrent.Devices;
using BlockTorrent.Diagnostics;

namespace BlockTorrent.Writing;

/// <summary>All-zero pieces: satisfied without moving data (skip, zero-range, discard, or shared zeros), in runs.</summary>
public sealed partial class PieceWriter
{
    /// <summary>
    /// Makes every all-zero piece not yet on the device read as zeros without sending data: skipped when the device
    /// is known zeroed, else by zeroing the range (<see cref="IBlockDevice.ZeroRangeAsync"/>), else by discarding it
    /// when discards read back as zeros, else by writing zeros from one shared buffer. Adjacent pieces are done as one run.
    /// </summary>
    /// <param name="cancellationToken">Cancels between runs.</param>
    /// <returns>The number of pieces satisfied.</returns>
    public async Task<int> SatisfyZeroPiecesAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (_manifest.ZeroPieceCount == 0)
        {
            return 0;
        }

        int satisfied = 0;
        long bytes = 0;
        string method = "skipping (the device is known zeroed)";
        int piece = 0;
        while (piece < _manifest.PieceCount)
        {
            if (!NeedsZeroing(piece))
            {
                piece++;
                continue;
            }

            int first = piece;
            bool mustWrite = false;
            while (piece < _manifest.PieceCount && NeedsZeroing(piece))
            {
                // A piece whose write failed may hold garbage, so "known zeroed" no longer holds for it.
                mustWrite |= !_deviceZeroed || _failed.Contains(piece);
                piece++;
            }

            long offset = _manifest.GetPieceOffset(first);
            long length = _manifest.GetPieceOffset(piece - 1) + _manifest.GetPieceSize(piece - 1) - offset;
            cancellationToken.ThrowIfCancellationRequested();
            if (mustWrite)
            {
                method = await ZeroAsync(offset, length, cancellationToken).ConfigureAwait(false);
            }

            for (int p = first; p < piece; p++)
            {
                _failed.Remove(p);
                if (_onDevice.Add(p))
                {
                    satisfied++;
                }
            }

            bytes += length;
        }

        Interlocked.Add(ref _zeroPiecesSatisfied, satisfied);
        Interlocked.Add(ref _bytesZeroed, bytes);
        BlockTorrentMetrics.BytesZeroed.Add(bytes);
        Log.ZeroPiecesSatisfied(_logger, satisfied, bytes, _device.Name, method);
        return satisfied;
    }

    private bool NeedsZeroing(int piece) => _manifest.IsZeroPiece(piece) && !_onDevice.Contains(piece);

    private async ValueTask<string> ZeroAsync(long offset, long length, CancellationToken cancellationToken)
    {
        if (_device.CanZeroRange)
        {
            await _device.ZeroRangeAsync(offset, length, cancellationToken).ConfigureAwait(false);
            return "zeroing ranges";
        }

        if (_device.CanDiscard && _device.DiscardZeroesData)
        {
            await _device.DiscardAsync(offset, length, cancellationToken).ConfigureAwait(false);
            return "discarding ranges";
        }

        await ZeroBuffer.WriteAsync(_device.WriteGatherAsync, offset, length, cancellationToken).ConfigureAwait(false);
        return "writing zeros";
    }
}

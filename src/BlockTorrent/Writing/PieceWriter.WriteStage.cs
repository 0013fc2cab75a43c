using System.Diagnostics;
using System.Threading.Channels;
using BlockTorrent.Diagnostics;

namespace BlockTorrent.Writing;

/// <summary>The write stage: verified pieces and their duplicates' positions, sorted and coalesced into large gathered writes.</summary>
public sealed partial class PieceWriter
{
    // Caps the buffers of one gathered write below IOV_MAX (1024 on Linux).
    private const int MaxGatherSegments = 1024;

    // How many runs of one batch are written at once.
    private const int MaxConcurrentWrites = 4;

    // Guards the bookkeeping of a finished run (a buffer's pending writes, copies and error) when runs of one batch
    // finish concurrently: a buffer with duplicates has segments in several runs.
    private readonly Lock _runSync = new();

    private async Task WriteLoopAsync()
    {
        ChannelReader<PieceBuffer> reader = _writeQueue.Reader;
        CancellationToken stop = _shutdown.Token;
        var batch = new List<PieceBuffer>();
        var deferred = new List<PieceBuffer>();
        var claimed = new HashSet<int>();
        var segments = new List<Segment>();
        var gather = new List<ReadOnlyMemory<byte>>();
        // A batch takes at most half the in-flight budget, so the other half keeps arriving and being verified while the
        // batch is written: the stages overlap instead of taking turns.
        long maxBatchBytes = Math.Max(_manifest.PieceLength, (long)MaxBuffersInFlight * _manifest.PieceLength / 2);
        try
        {
            await WriteBatchesAsync(reader, batch, deferred, claimed, segments, gather, maxBatchBytes, stop).ConfigureAwait(false);
        }
        finally
        {
            // Stopped by disposal: pieces held back for the next batch are abandoned with the rest.
            foreach (PieceBuffer buffer in deferred)
            {
                Cancel(buffer, stop);
            }
        }
    }

    private async Task WriteBatchesAsync(ChannelReader<PieceBuffer> reader, List<PieceBuffer> batch, List<PieceBuffer> deferred, HashSet<int> claimed, List<Segment> segments, List<ReadOnlyMemory<byte>> gather, long maxBatchBytes, CancellationToken stop)
    {
        var runs = new List<Run>();
        while (deferred.Count > 0 || await reader.WaitToReadAsync(stop).ConfigureAwait(false))
        {
            batch.Clear();
            batch.AddRange(deferred);
            deferred.Clear();
            long batchBytes = 0;
            while (batchBytes < maxBatchBytes && reader.TryRead(out PieceBuffer? next))
            {
                batch.Add(next);
                batchBytes += next.Data.Length;
            }

            // Each buffer becomes one segment per position of its group that is not on the device yet. Two buffers
            // for the same group never write in the same batch: the later one waits for the next batch, where it
            // finds the positions written (or retries them if the write failed).
            claimed.Clear();
            segments.Clear();
            foreach (PieceBuffer buffer in batch)
            {
                if (buffer.Token.IsCancellationRequested)
                {
                    Cancel(buffer, buffer.Token);
                    continue;
                }

                if (GroupClaimed(buffer.Piece, claimed))
                {
                    deferred.Add(buffer);
                    continue;
                }

                int count = 0;
                for (int member = _groups.First(buffer.Piece); member >= 0; member = _groups.Next(member))
                {
                    if (!_onDevice.Contains(member))
                    {
                        claimed.Add(member);
                        segments.Add(new Segment(_manifest.GetPieceOffset(member), member, buffer));
                        count++;
                    }
                }

                if (count == 0)
                {
                    Finish(buffer, PieceWriteStatus.AlreadyWritten);
                }
                else
                {
                    buffer.PendingWrites = count;
                }
            }

            segments.Sort(static (a, b) => a.Offset.CompareTo(b.Offset));
            runs.Clear();
            int start = 0;
            while (start < segments.Count)
            {
                int end = start + 1;
                long runBytes = segments[start].Owner.Data.Length;
                while (end < segments.Count
                    && end - start < MaxGatherSegments
                    && segments[end].Offset == segments[end - 1].Offset + segments[end - 1].Owner.Data.Length
                    && runBytes + segments[end].Owner.Data.Length <= _options.MaxWriteBytes)
                {
                    runBytes += segments[end].Owner.Data.Length;
                    end++;
                }

                runs.Add(new Run(start, end, runBytes));
                start = end;
            }

            await WriteRunsAsync(segments, runs, gather, stop).ConfigureAwait(false);
            FlushBehind();
        }
    }

    // The runs of a batch never overlap (each position is claimed once per batch), so up to MaxConcurrentWrites of them
    // are in flight at once: a device with a deep queue (NVMe, a loop device, RAID) works on several while the write
    // stage waits. One run (the common case for pieces arriving in order) is written straight from the shared list.
    private async Task WriteRunsAsync(List<Segment> segments, List<Run> runs, List<ReadOnlyMemory<byte>> gather, CancellationToken stop)
    {
        if (runs.Count == 1)
        {
            await WriteRunAsync(segments, runs[0].Start, runs[0].End, runs[0].Bytes, gather, stop).ConfigureAwait(false);
            return;
        }

        int next = -1;
        var writers = new Task[Math.Min(MaxConcurrentWrites, runs.Count)];
        for (int w = 0; w < writers.Length; w++)
        {
            writers[w] = Task.Run(
                async () =>
                {
                    var own = new List<ReadOnlyMemory<byte>>();
                    int i;
                    while ((i = Interlocked.Increment(ref next)) < runs.Count)
                    {
                        await WriteRunAsync(segments, runs[i].Start, runs[i].End, runs[i].Bytes, own, stop).ConfigureAwait(false);
                    }
                },
                CancellationToken.None);
        }

        await Task.WhenAll(writers).ConfigureAwait(false);
    }

    private async Task WriteRunAsync(List<Segment> segments, int start, int end, long runBytes, List<ReadOnlyMemory<byte>> gather, CancellationToken stop)
    {
        gather.Clear();
        for (int i = start; i < end; i++)
        {
            gather.Add(segments[i].Owner.Data);
        }

        long offset = segments[start].Offset;
        Exception? error = null;
        try
        {
            // The image never reaches past the device (checked at construction) and every offset comes from the
            // manifest's own layout, so a run lies inside [0, image length).
            Debug.Assert(offset + runBytes <= _manifest.Length, "A run reaches past the image.");
            if (end - start == 1)
            {
                await _device.WriteAsync(offset, gather[0], stop).ConfigureAwait(false);
            }
            else
            {
                await _device.WriteGatherAsync(offset, gather, stop).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            error = ex;
        }

        gather.Clear();
        Interlocked.Increment(ref _deviceWrites);
        BlockTorrentMetrics.DeviceWrites.Add(1);
        if (error is null)
        {
            Interlocked.Add(ref _bytesWritten, runBytes);
            Interlocked.Add(ref _piecesWritten, end - start);
            BlockTorrentMetrics.BytesWritten.Add(runBytes);
            BlockTorrentMetrics.PiecesWritten.Add(end - start);
        }
        else if (error is OperationCanceledException && stop.IsCancellationRequested)
        {
            // The writer is being disposed: the pieces are abandoned, which is not a device failure.
        }
        else
        {
            Interlocked.Increment(ref _writeFailures);
            BlockTorrentMetrics.DeviceErrors.Add(1);
            Interlocked.CompareExchange(ref _firstFailure, error, null);
            Log.WriteFailed(_logger, error, runBytes, offset, _device.Name, segments[start].Piece, segments[end - 1].Piece);
        }

        lock (_runSync)
        {
            for (int i = start; i < end; i++)
            {
                Segment segment = segments[i];
                PieceBuffer owner = segment.Owner;
                if (error is null)
                {
                    _failed.Remove(segment.Piece);
                    _onDevice.Add(segment.Piece);
                    owner.Copies++;
                    if (segment.Piece != owner.Piece)
                    {
                        Interlocked.Increment(ref _duplicatesWritten);
                    }
                }
                else
                {
                    if (error is not OperationCanceledException)
                    {
                        _failed.Add(segment.Piece);
                    }

                    owner.Error ??= error;
                }

                if (--owner.PendingWrites == 0)
                {
                    if (owner.Error is null)
                    {
                        Finish(owner, PieceWriteStatus.Written);
                    }
                    else
                    {
                        Fail(owner, owner.Error);
                    }
                }
            }
        }
    }

    private bool GroupClaimed(int piece, HashSet<int> claimed)
    {
        for (int member = _groups.First(piece); member >= 0; member = _groups.Next(member))
        {
            if (claimed.Contains(member))
            {
                return true;
            }
        }

        return false;
    }

    private bool GroupOnDevice(int piece)
    {
        for (int member = _groups.First(piece); member >= 0; member = _groups.Next(member))
        {
            if (!_onDevice.Contains(member))
            {
                return false;
            }
        }

        return true;
    }

    private readonly record struct Segment(long Offset, int Piece, PieceBuffer Owner);

    private readonly record struct Run(int Start, int End, long Bytes);
}

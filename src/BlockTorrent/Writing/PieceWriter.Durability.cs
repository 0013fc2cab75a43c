using System.Globalization;
using BlockTorrent.Manifest;

namespace BlockTorrent.Writing;

/// <summary>What is on the device and durable: rechecks, flushes, resume state and read-back verification.</summary>
public sealed partial class PieceWriter
{
    /// <summary>
    /// Reads pieces not yet known to be on the device back from it, checks them on all cores, and marks those that
    /// are correct as on the device: to resume after a restart, or to re-image a disk fetching only what differs.
    /// </summary>
    /// <param name="options">Which pieces (default: every piece not yet on the device), how many readers, progress.</param>
    /// <param name="cancellationToken">Cancels the recheck.</param>
    /// <returns>The number of pieces found correct.</returns>
    public async Task<int> RecheckAsync(PieceCheckOptions? options = null, CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        options ??= PieceCheckOptions.Default;
        options.Validate();
        var pieces = new List<int>();
        IEnumerable<int> candidates = options.Pieces ?? Enumerable.Range(0, _manifest.PieceCount);
        foreach (int piece in candidates)
        {
            CheckPiece(piece);
            if (!_onDevice.Contains(piece))
            {
                pieces.Add(piece);
            }
        }

        int found = 0;
        await PieceChecker.CheckCoreAsync(
            _manifest,
            _device,
            pieces,
            options.EffectiveParallelism,
            options.Progress,
            (piece, ok) =>
            {
                // The bytes were on the device before this writer wrote anything there, so they are as durable as the device.
                if (ok && _onDevice.Add(piece))
                {
                    _flushed.Add(piece);
                    Interlocked.Increment(ref found);
                }
            },
            cancellationToken,
            _options.VerifyAllHashes).ConfigureAwait(false);
        Interlocked.Add(ref _piecesFoundOnDevice, found);
        Log.Rechecked(_logger, _device.Name, found, pieces.Count);
        return found;
    }

    /// <summary>
    /// Marks a piece whose bytes the caller has just read back from the device and hashed equal to the manifest (a
    /// <see cref="BackgroundCheck"/>) as on the device and, since this writer did not put them there, as durable.
    /// </summary>
    /// <param name="piece">The piece.</param>
    /// <returns><see langword="true"/> when the piece was not yet on the device.</returns>
    internal bool MarkFound(int piece)
    {
        CheckPiece(piece);
        if (!_onDevice.Add(piece))
        {
            return false;
        }

        _flushed.Add(piece);
        Interlocked.Increment(ref _piecesFoundOnDevice);
        return true;
    }

    /// <summary>Makes every write so far durable, and records the pieces written before it as flushed.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the device has flushed.</returns>
    /// <exception cref="IOException">An earlier flush (one of the write stage's in the background, or a caller's) failed: no later flush can vouch for the writes made before it.</exception>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        await _flushLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await FlushHeldAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _flushLock.Release();
        }
    }

    // Flush behind: started by the write stage each time FlushIntervalBytes more have been written, at most one at a
    // time and never waited for by the write stage, so the device writes back its cache (a disk's, or the page cache
    // under a loop device) while later pieces are verified and written, instead of all of it in the final flush. A
    // flush already running (a caller's) does the same, so none is started then; after a failed flush none is either.
    private void FlushBehind()
    {
        long written = Interlocked.Read(ref _bytesWritten);
        if (_options.FlushIntervalBytes == 0
            || written - _flushBehindMark < _options.FlushIntervalBytes
            || _flushBehind is { IsCompleted: false }
            || Volatile.Read(ref _flushFailure) is not null)
        {
            return;
        }

        _flushBehindMark = written;
        _flushBehind = Task.Run(FlushBehindAsync, CancellationToken.None);
    }

    private async Task FlushBehindAsync()
    {
        CancellationToken stop = _shutdown.Token;
        if (!_flushLock.Wait(0, CancellationToken.None))
        {
            return;
        }

        try
        {
            await FlushHeldAsync(stop).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The writer is being disposed.
        }
        catch (Exception ex)
        {
            // Recorded and raised by every later flush and by CompleteAsync (see FlushHeldAsync).
            Log.FlushFailed(_logger, ex, _device.Name);
        }
        finally
        {
            _flushLock.Release();
        }
    }

    // Runs with _flushLock held.
    private async Task FlushHeldAsync(CancellationToken cancellationToken)
    {
        // Linux reports a failed write-back to one fsync only (errseq): after a failed flush a later one may succeed
        // although the failed data never reached the disk. So once a flush has failed, no later one vouches for anything.
        ThrowIfFlushFailed();

        // Only pieces on the device before the flush started are durable after it.
        _onDevice.CopyTo(_flushSnapshot);
        try
        {
            await _device.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Interlocked.CompareExchange(ref _flushFailure, ex, null);
            throw;
        }

        for (int word = 0; word < _flushSnapshot.Length; word++)
        {
            long bits = _flushSnapshot[word];
            while (bits != 0)
            {
                int bit = System.Numerics.BitOperations.TrailingZeroCount(bits);
                bits &= bits - 1;
                _flushed.Add((word * 64) + bit);
            }
        }
    }

    private void ThrowIfFlushFailed()
    {
        Exception? failure = Volatile.Read(ref _flushFailure);
        if (failure is not null)
        {
            throw new IOException($"Flushing '{_device.Name}' failed earlier, so writes made before that failure may not be on it; no later flush can make them durable.", failure);
        }
    }

    /// <summary>
    /// Records the durable pieces as a <see cref="ResumeState"/>, to be saved and, after a restart, checked with
    /// <see cref="ApplyResumeStateAsync"/>. Call <see cref="FlushAsync"/> first to include the latest writes.
    /// </summary>
    /// <returns>A new resume state for this image and device.</returns>
    /// <exception cref="InvalidOperationException">The manifest has no info-hash.</exception>
    public ResumeState CreateResumeState()
    {
        var state = new ResumeState(GetInfoHash(), _device.Name, _device.Length, _manifest.PieceCount);
        for (int p = 0; p < _manifest.PieceCount; p++)
        {
            if (_flushed.Contains(p))
            {
                state.Add(p);
            }
        }

        return state;
    }

    /// <summary>
    /// Reads back the pieces a validated resume state names, checks them on all cores, and marks those whose bytes
    /// match the manifest as on the device (and durable). A resume state is a hint about where to look, never proof:
    /// the device may have been written since it was saved (another image, another tool, another backing file), or
    /// the state may come from another device of the same name. A named piece that no longer matches stays missing
    /// and is fetched or written again like any other.
    /// </summary>
    /// <param name="state">A state loaded with <see cref="O:BlockTorrent.Writing.ResumeState.TryLoad"/>.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <returns>The number of named pieces that matched and are now marked (pieces already on the device are not checked again).</returns>
    /// <exception cref="ArgumentException">The state is for another image, another device, or another piece count.</exception>
    /// <exception cref="IOException">The device failed a read.</exception>
    public async Task<int> ApplyResumeStateAsync(ResumeState state, CancellationToken cancellationToken = default) =>
        (await CheckResumeStateAsync(state, checkEveryPiece: false, cancellationToken).ConfigureAwait(false)).Matched;

    /// <summary>
    /// Checks the pieces a resume state names as <see cref="ApplyResumeStateAsync"/> does and, with
    /// <paramref name="checkEveryPiece"/>, every other piece not yet on the device in the same pass.
    /// </summary>
    /// <returns>How many pieces the state named, how many of those matched, and how many other pieces matched.</returns>
    internal async Task<(int Named, int Matched, int Others)> CheckResumeStateAsync(ResumeState state, bool checkEveryPiece, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        ThrowIfDisposed();
        if (!state.Matches(GetInfoHash(), _device.Name, _device.Length, _manifest.PieceCount, out string? mismatch))
        {
            throw new ArgumentException($"The resume state does not belong to this deployment: {mismatch}", nameof(state));
        }

        var named = new List<int>(state.Count);
        foreach (int piece in state.Pieces)
        {
            if (!_onDevice.Contains(piece))
            {
                named.Add(piece);
            }
        }

        var options = new PieceCheckOptions { Pieces = checkEveryPiece ? null : named, Parallelism = _options.EffectiveVerificationWorkers };
        int found = await RecheckAsync(options, cancellationToken).ConfigureAwait(false);
        int matched = named.Count(_onDevice.Contains);
        Log.ResumeChecked(_logger, named.Count, _device.Name, matched);
        if (matched < named.Count)
        {
            Log.ResumeStale(_logger, named.Count - matched, named.Count, _device.Name);
        }

        return (named.Count, matched, found - matched);
    }

    private async Task ReadBackAsync(CancellationToken cancellationToken)
    {
        var pieces = new List<int>(_onDevice.Count);
        for (int p = 0; p < _manifest.PieceCount; p++)
        {
            if (_onDevice.Contains(p))
            {
                pieces.Add(p);
            }
        }

        var bad = new PieceSet(_manifest.PieceCount);
        await PieceChecker.CheckCoreAsync(
            _manifest,
            _device,
            pieces,
            _options.EffectiveVerificationWorkers,
            progress: null,
            (piece, ok) =>
            {
                if (!ok)
                {
                    bad.Add(piece);
                }
            },
            cancellationToken,
            _options.VerifyAllHashes).ConfigureAwait(false);
        Interlocked.Add(ref _piecesReadBack, pieces.Count);
        if (bad.Count == 0)
        {
            return;
        }

        var names = new List<int>();
        for (int p = 0; p < _manifest.PieceCount; p++)
        {
            if (bad.Contains(p))
            {
                Log.ReadBackMismatch(_logger, p, _device.Name);
                _onDevice.Remove(p);
                _flushed.Remove(p);
                if (names.Count < 20)
                {
                    names.Add(p);
                }
            }
        }

        throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"{bad.Count} piece(s) read back from '{_device.Name}' do not match the manifest after writing (first: {string.Join(", ", names)}). The device lost or corrupted writes."));
    }

    private InfoHash GetInfoHash() => ResumeState.GetIdentity(_manifest);
}

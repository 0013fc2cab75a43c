using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using BlockTorrent.Buffers;
using BlockTorrent.Devices;
using BlockTorrent.Diagnostics;
using BlockTorrent.Manifest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BlockTorrent.Writing;

/// <summary>
/// Verifies pieces against an image's manifest and writes each verified piece straight to its final offset on a
/// device, and at the offset of every piece with the same content. Nothing reaches the device unverified, and
/// nothing is written outside the image.
/// </summary>
/// <remarks>
/// <para>
/// The path of a piece: <see cref="RentAsync"/> hands out pooled, aligned memory within a bounded in-flight budget
/// (the backpressure point); the caller fills it and <see cref="CommitAsync"/>s it; a verification stage hashes
/// committed pieces on all cores; a single write stage takes every verified piece that is ready, sorts the pieces
/// and their duplicates' positions by offset and writes adjacent ones as one gathered write; then the memory
/// returns to the pool and the commit's task completes.
/// </para>
/// <para>
/// All members are thread-safe. A failed device write fails the commits it carried and leaves their pieces
/// unwritten (a later commit may retry them); <see cref="CompleteAsync"/> reports any piece whose write failed
/// and was not written later.
/// </para>
/// </remarks>
public sealed class PieceWriter : IAsyncDisposable
{
    // Caps the buffers of one gathered write below IOV_MAX (1024 on Linux).
    private const int MaxGatherSegments = 1024;

    private readonly IImageManifest _manifest;
    private readonly IBlockDevice _device;
    private readonly PieceWriterOptions _options;
    private readonly ILogger _logger;
    private readonly PieceGroups _groups;
    private readonly AlignedBufferPool _pool;
    private readonly SemaphoreSlim _budget;
    private readonly Channel<PieceBuffer> _verifyQueue;
    private readonly Channel<PieceBuffer> _writeQueue;
    private readonly Task[] _verifiers;
    private readonly Task _writeLoop;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly SemaphoreSlim _flushLock = new(1, 1);
    private readonly long[] _flushSnapshot;
    private readonly bool _deviceZeroed;
    private readonly long _started = Stopwatch.GetTimestamp();

    // Pieces whose bytes are on the device, verified; and the subset known to be durable (flushed).
    private readonly PieceSet _onDevice;
    private readonly PieceSet _flushed;

    // Pieces whose last write failed and that have not been written since.
    private readonly PieceSet _failed;
    private Exception? _firstFailure;

    private long _piecesVerified;
    private long _piecesRejected;
    private long _piecesWritten;
    private long _duplicatesWritten;
    private long _zeroPiecesSatisfied;
    private long _piecesFoundOnDevice;
    private long _bytesWritten;
    private long _bytesZeroed;
    private long _deviceWrites;
    private long _writeFailures;
    private long _piecesReadBack;
    private int _completing;
    private int _disposed;

    /// <summary>Initializes a new instance and starts its verification and write stages.</summary>
    /// <param name="manifest">The image's manifest: piece offsets, sizes, hashes, zero and duplicate pieces.</param>
    /// <param name="device">The target; at least as long as the image. The writer does not dispose it.</param>
    /// <param name="options">How to buffer, verify and write; <see langword="null"/> for <see cref="PieceWriterOptions.Default"/>.</param>
    /// <param name="logger">Where to log rejected pieces and failed writes; <see langword="null"/> for none.</param>
    /// <exception cref="ArgumentException">The device is read-only or shorter than the image, or the options are invalid.</exception>
    public PieceWriter(IImageManifest manifest, IBlockDevice device, PieceWriterOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(device);
        options ??= PieceWriterOptions.Default;
        options.Validate();
        if (device.IsReadOnly)
        {
            throw new ArgumentException($"'{device.Name}' is read-only; an image cannot be written to it.", nameof(device));
        }

        if (device.Length < manifest.Length)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"'{device.Name}' is {device.Length} bytes long, shorter than the image '{manifest.Name}' ({manifest.Length} bytes)."), nameof(device));
        }

        if (manifest.PieceLength <= 0 || manifest.PieceCount < 0)
        {
            throw new ArgumentException($"The manifest '{manifest.Name}' has no valid piece layout.", nameof(manifest));
        }

        _manifest = manifest;
        _device = device;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        _groups = new PieceGroups(manifest);
        _onDevice = new PieceSet(manifest.PieceCount);
        _flushed = new PieceSet(manifest.PieceCount);
        _failed = new PieceSet(manifest.PieceCount);
        _flushSnapshot = new long[_onDevice.WordCount];
        _deviceZeroed = options.DeviceIsZeroed || device is FileBlockDevice { IsKnownZeroed: true };

        // The budget counts whole pool buffers: every rented buffer is one piece length, whatever the piece's size.
        _pool = new AlignedBufferPool(manifest.PieceLength);
        long bufferBytes = AlignedBuffer.RoundUp(manifest.PieceLength);
        int buffers = (int)Math.Clamp(options.MaxInFlightBytes / bufferBytes, 1, int.MaxValue);
        _budget = new SemaphoreSlim(buffers, buffers);
        MaxBuffersInFlight = buffers;

        _verifyQueue = Channel.CreateUnbounded<PieceBuffer>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
        _writeQueue = Channel.CreateUnbounded<PieceBuffer>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
        _verifiers = new Task[options.EffectiveVerificationWorkers];
        for (int i = 0; i < _verifiers.Length; i++)
        {
            _verifiers[i] = Task.Run(VerifyLoopAsync);
        }

        _writeLoop = Task.Run(WriteLoopAsync);
    }

    /// <summary>Gets the number of pieces on the device, verified: written, duplicated, zero-satisfied, rechecked or resumed.</summary>
    public int PiecesWritten => _onDevice.Count;

    /// <summary>Gets the manifest the writer verifies against.</summary>
    public IImageManifest Manifest => _manifest;

    /// <summary>Gets the device the writer writes to.</summary>
    public IBlockDevice Device => _device;

    /// <summary>Gets how many piece buffers the in-flight budget admits at once.</summary>
    public int MaxBuffersInFlight { get; }

    /// <summary>Gets a value indicating whether a piece is on the device, verified.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns><see langword="true"/> when the device holds the piece's bytes.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="piece"/> is not a piece of the image.</exception>
    public bool HasPiece(int piece)
    {
        CheckPiece(piece);
        return _onDevice.Contains(piece);
    }

    /// <summary>Gets a value indicating whether a piece is on the device and known durable (flushed, resumed or rechecked).</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns><see langword="true"/> when the piece has been flushed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="piece"/> is not a piece of the image.</exception>
    public bool IsFlushed(int piece)
    {
        CheckPiece(piece);
        return _flushed.Contains(piece);
    }

    /// <summary>
    /// Waits until the in-flight budget has room for one piece, then hands out memory for it. This is the
    /// backpressure point: a caller that cannot rent should stop reading from the network.
    /// </summary>
    /// <param name="piece">The piece the memory is for.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A buffer exactly as long as the piece.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="piece"/> is not a piece of the image.</exception>
    /// <exception cref="InvalidOperationException">The writer is completing.</exception>
    public async ValueTask<PieceBuffer> RentAsync(int piece, CancellationToken cancellationToken = default)
    {
        CheckPiece(piece);
        ThrowIfClosed();
        if (!_budget.Wait(0, CancellationToken.None))
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _shutdown.Token);
            try
            {
                await _budget.WaitAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ObjectDisposedException(nameof(PieceWriter), "The writer was disposed while waiting for memory.");
            }
        }

        AlignedBuffer buffer;
        try
        {
            ThrowIfClosed();
            buffer = _pool.Rent();
        }
        catch
        {
            _budget.Release();
            throw;
        }

        return new PieceBuffer(this, piece, buffer, _manifest.GetPieceSize(piece));
    }

    /// <summary>
    /// Hands a filled buffer over; from now on it belongs to the writer. The bytes are verified on a worker and, when
    /// they match, written at the piece's offset and at the offset of every duplicate not yet on the device.
    /// </summary>
    /// <param name="buffer">A buffer rented from this writer, filled with the piece's bytes.</param>
    /// <param name="source">Who supplied the bytes (a peer), returned in the result and logged on a mismatch.</param>
    /// <param name="cancellationToken">
    /// Cancels the commit while the piece waits to be verified or written; the piece is then not written. Once its
    /// write has started, the commit completes with the write's outcome.
    /// </param>
    /// <returns>The outcome; faults with the device's error when the write failed.</returns>
    /// <exception cref="ArgumentException">The buffer is not from this writer.</exception>
    /// <exception cref="InvalidOperationException">The buffer was already committed or disposed, or the writer is completing.</exception>
    public Task<PieceWriteResult> CommitAsync(PieceBuffer buffer, object? source = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        if (!ReferenceEquals(buffer.Owner, this))
        {
            throw new ArgumentException("The buffer was rented from another writer.", nameof(buffer));
        }

        if (!buffer.TryCommit())
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"The buffer for piece {buffer.Piece} was already committed or disposed."));
        }

        if (cancellationToken.IsCancellationRequested)
        {
            buffer.ReleaseCommitted();
            return Task.FromCanceled<PieceWriteResult>(cancellationToken);
        }

        var completion = new TaskCompletionSource<PieceWriteResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        buffer.Source = source;
        buffer.Token = cancellationToken;
        buffer.Completion = completion;
        buffer.Copies = 0;
        buffer.PendingWrites = 0;
        buffer.Error = null;
        if (Volatile.Read(ref _completing) != 0 || !_verifyQueue.Writer.TryWrite(buffer))
        {
            buffer.ReleaseCommitted();
            throw new InvalidOperationException("The writer is completing and accepts no more pieces.");
        }

        return completion.Task;
    }

    /// <summary>Copies a piece's bytes into a rented buffer and commits it (see <see cref="CommitAsync"/>).</summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="data">The piece's bytes: exactly <see cref="IImageManifest.GetPieceSize"/> long.</param>
    /// <param name="source">Who supplied the bytes.</param>
    /// <param name="cancellationToken">Cancels the wait for memory and the commit.</param>
    /// <returns>The outcome.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="piece"/> is not a piece of the image.</exception>
    /// <exception cref="ArgumentException"><paramref name="data"/> is not the piece's length.</exception>
    public async Task<PieceWriteResult> WriteAsync(int piece, ReadOnlyMemory<byte> data, object? source = null, CancellationToken cancellationToken = default)
    {
        CheckPiece(piece);
        int size = _manifest.GetPieceSize(piece);
        if (data.Length != size)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Piece {piece} is {size} bytes long, not {data.Length}."), nameof(data));
        }

        PieceBuffer buffer = await RentAsync(piece, cancellationToken).ConfigureAwait(false);
        try
        {
            data.CopyTo(buffer.Memory);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }

        return await CommitAsync(buffer, source, cancellationToken).ConfigureAwait(false);
    }

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

    /// <summary>Makes every write so far durable, and records the pieces written before it as flushed.</summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the device has flushed.</returns>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        await _flushLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Only pieces on the device before the flush started are durable after it.
            _onDevice.CopyTo(_flushSnapshot);
            await _device.FlushAsync(cancellationToken).ConfigureAwait(false);
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
        finally
        {
            _flushLock.Release();
        }
    }

    /// <summary>
    /// Records the durable pieces as a <see cref="ResumeState"/>, to be saved and, after a restart, applied with
    /// <see cref="ApplyResumeState"/>. Call <see cref="FlushAsync"/> first to include the latest writes.
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

    /// <summary>Marks the pieces a validated resume state proves as on the device (and durable).</summary>
    /// <param name="state">A state loaded with <see cref="O:BlockTorrent.Writing.ResumeState.TryLoad"/>.</param>
    /// <returns>The number of pieces newly marked.</returns>
    /// <exception cref="ArgumentException">The state is for another image, another device, or another piece count.</exception>
    public int ApplyResumeState(ResumeState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ThrowIfDisposed();
        if (!state.Matches(GetInfoHash(), _device.Name, _device.Length, _manifest.PieceCount, out string? mismatch))
        {
            throw new ArgumentException($"The resume state does not belong to this deployment: {mismatch}", nameof(state));
        }

        int marked = 0;
        foreach (int piece in state.Pieces)
        {
            _flushed.Add(piece);
            if (_onDevice.Add(piece))
            {
                marked++;
            }
        }

        Interlocked.Add(ref _piecesFoundOnDevice, marked);
        Log.ResumeApplied(_logger, marked, _device.Name);
        return marked;
    }

    /// <summary>Gets a snapshot of what the writer has done so far.</summary>
    /// <returns>The statistics.</returns>
    public PieceWriterStatistics GetStatistics() => new()
    {
        PieceCount = _manifest.PieceCount,
        PiecesOnDevice = _onDevice.Count,
        PiecesVerified = Interlocked.Read(ref _piecesVerified),
        PiecesRejected = Interlocked.Read(ref _piecesRejected),
        PiecesWritten = Interlocked.Read(ref _piecesWritten),
        DuplicatesWritten = Interlocked.Read(ref _duplicatesWritten),
        ZeroPiecesSatisfied = Interlocked.Read(ref _zeroPiecesSatisfied),
        PiecesFoundOnDevice = Interlocked.Read(ref _piecesFoundOnDevice),
        BytesWritten = Interlocked.Read(ref _bytesWritten),
        BytesZeroed = Interlocked.Read(ref _bytesZeroed),
        DeviceWrites = Interlocked.Read(ref _deviceWrites),
        WriteFailures = Interlocked.Read(ref _writeFailures),
        PiecesReadBack = Interlocked.Read(ref _piecesReadBack),
        Elapsed = Stopwatch.GetElapsedTime(_started),
    };

    /// <summary>
    /// Stops accepting pieces, waits for every committed piece to be verified and written, flushes the device and,
    /// with <see cref="PieceWriterOptions.VerifyAfterWrite"/>, reads every piece on the device back and checks it.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The final statistics.</returns>
    /// <exception cref="IOException">A piece's write failed and it was not written later; the inner exception is the first failure.</exception>
    /// <exception cref="InvalidDataException">A piece read back after the flush did not match the manifest; it is no longer counted as on the device.</exception>
    /// <exception cref="InvalidOperationException">The writer was already completed.</exception>
    public async Task<PieceWriterStatistics> CompleteAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfDisposed();
        if (Interlocked.Exchange(ref _completing, 1) != 0)
        {
            throw new InvalidOperationException("The writer was already completed.");
        }

        _verifyQueue.Writer.TryComplete();
        await Task.WhenAll(_verifiers).WaitAsync(cancellationToken).ConfigureAwait(false);
        _writeQueue.Writer.TryComplete();
        await _writeLoop.WaitAsync(cancellationToken).ConfigureAwait(false);
        await FlushAsync(cancellationToken).ConfigureAwait(false);

        if (_options.VerifyAfterWrite)
        {
            await ReadBackAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_failed.Count > 0)
        {
            throw new IOException(
                string.Create(CultureInfo.InvariantCulture, $"Writing to '{_device.Name}' failed for {_failed.Count} piece(s) that were not written later."),
                Volatile.Read(ref _firstFailure));
        }

        PieceWriterStatistics statistics = GetStatistics();
        Log.Completed(_logger, _device.Name, statistics.PiecesOnDevice, statistics.PieceCount, statistics.PiecesWritten, statistics.DeviceWrites, statistics.PiecesRejected, statistics.Elapsed);
        return statistics;
    }

    /// <summary>
    /// Stops the stages: pieces not yet written are abandoned (their commits are cancelled) and the memory pool is
    /// freed. Does not flush or dispose the device; call <see cref="CompleteAsync"/> first for an orderly end.
    /// </summary>
    /// <returns>A task that completes when the stages have stopped.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Volatile.Write(ref _completing, 1);
        await _shutdown.CancelAsync().ConfigureAwait(false);
        _verifyQueue.Writer.TryComplete();
        _writeQueue.Writer.TryComplete();
        await Task.WhenAll(_verifiers.Append(_writeLoop)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        // Whatever the stopped stages left behind is abandoned.
        while (_verifyQueue.Reader.TryRead(out PieceBuffer? buffer) || _writeQueue.Reader.TryRead(out buffer))
        {
            Cancel(buffer, _shutdown.Token);
        }

        _pool.Dispose();
        _shutdown.Dispose();
        _flushLock.Dispose();
    }

    /// <summary>Returns a buffer's memory to the pool and its room to the budget.</summary>
    /// <param name="buffer">The buffer, with no I/O in flight on it.</param>
    internal void Release(AlignedBuffer buffer)
    {
        _pool.Return(buffer);
        _budget.Release();
    }

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

    private async Task WriteLoopAsync()
    {
        ChannelReader<PieceBuffer> reader = _writeQueue.Reader;
        CancellationToken stop = _shutdown.Token;
        var batch = new List<PieceBuffer>();
        var deferred = new List<PieceBuffer>();
        var claimed = new HashSet<int>();
        var segments = new List<Segment>();
        var gather = new List<ReadOnlyMemory<byte>>();
        long maxBatchBytes = Math.Max(_options.MaxWriteBytes, (long)MaxBuffersInFlight * _manifest.PieceLength);
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

                await WriteRunAsync(segments, start, end, runBytes, gather, stop).ConfigureAwait(false);
                start = end;
            }
        }
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

    private void Finish(PieceBuffer buffer, PieceWriteStatus status)
    {
        var result = new PieceWriteResult(buffer.Piece, status, buffer.Source, status == PieceWriteStatus.Written ? buffer.Copies : 0);
        TaskCompletionSource<PieceWriteResult>? completion = buffer.Completion;
        buffer.ReleaseCommitted();
        completion?.TrySetResult(result);
    }

    private static void Fail(PieceBuffer buffer, Exception error)
    {
        TaskCompletionSource<PieceWriteResult>? completion = buffer.Completion;
        buffer.ReleaseCommitted();
        if (error is OperationCanceledException canceled)
        {
            completion?.TrySetCanceled(canceled.CancellationToken);
        }
        else
        {
            completion?.TrySetException(error);
        }
    }

    private static void Cancel(PieceBuffer buffer, CancellationToken token)
    {
        TaskCompletionSource<PieceWriteResult>? completion = buffer.Completion;
        buffer.ReleaseCommitted();
        completion?.TrySetCanceled(token);
    }

    private void CheckPiece(int piece)
    {
        if ((uint)piece >= (uint)_manifest.PieceCount)
        {
            ThrowPieceOutOfRange(piece);
        }
    }

    private void ThrowPieceOutOfRange(int piece) =>
        throw new ArgumentOutOfRangeException(nameof(piece), piece, string.Create(CultureInfo.InvariantCulture, $"'{_manifest.Name}' has pieces 0 to {_manifest.PieceCount - 1}."));

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

    private void ThrowIfClosed()
    {
        ThrowIfDisposed();
        if (Volatile.Read(ref _completing) != 0)
        {
            throw new InvalidOperationException("The writer is completing and accepts no more pieces.");
        }
    }

    private readonly record struct Segment(long Offset, int Piece, PieceBuffer Owner);
}

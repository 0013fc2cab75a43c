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
public sealed partial class PieceWriter : IAsyncDisposable
{
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

    // Flush behind (see FlushBehind): the write stage's running flush, the bytes written when it started, and the
    // first failed flush, after which nothing is durable any more.
    private Task? _flushBehind;
    private long _flushBehindMark;
    private Exception? _flushFailure;

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
        _deviceZeroed = options.DeviceIsZeroed || device.IsKnownZeroed;

        // The budget counts whole pool buffers: every rented buffer is one piece length, whatever the piece's size.
        _pool = new AlignedBufferPool(manifest.PieceLength, static bytes => BlockTorrentMetrics.PieceBufferBytes.Add(bytes));
        long bufferBytes = AlignedBuffer.RoundUp(manifest.PieceLength);
        int buffers = (int)Math.Clamp(options.MaxInFlightBytes / bufferBytes, 1, int.MaxValue);
        _budget = new SemaphoreSlim(buffers, buffers);
        MaxBuffersInFlight = buffers;

        _verifyQueue = Channel.CreateUnbounded<PieceBuffer>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false, AllowSynchronousContinuations = true });
        _writeQueue = Channel.CreateUnbounded<PieceBuffer>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
        _verifiers = new Task[options.EffectiveVerificationWorkers];
        for (int i = 0; i < _verifiers.Length; i++)
        {
            _verifiers[i] = Task.Factory.StartNew(VerifyLoop, CancellationToken.None, TaskCreationOptions.LongRunning | TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
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

    /// <summary>Gets how many piece buffers the writer has allocated: its memory high-water, never above <see cref="MaxBuffersInFlight"/>.</summary>
    internal int BuffersAllocated => _pool.Created;

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
        if (_flushBehind is not null)
        {
            await _flushBehind.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

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
        if (_flushBehind is not null)
        {
            await _flushBehind.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

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
}

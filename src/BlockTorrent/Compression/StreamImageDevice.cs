using System.Globalization;
using System.Runtime.CompilerServices;
using BlockTorrent.Buffers;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Scratch;
using BlockTorrent.Swarm;

namespace BlockTorrent.Compression;

/// <summary>
/// The compressed file of a <see cref="StreamImage"/>, as a device over the raw target: a verified piece written here
/// goes into bounded scratch, and a decoder takes pieces out in order, decodes the stream and writes the raw image to
/// the target front to back in large aligned writes. The writer and the swarm see an ordinary torrent file; the
/// swarm's picker starts pieces only in <see cref="Window"/>, just ahead of the decoder.
/// </summary>
/// <remarks>
/// <para>
/// Scratch holds S = capacity / piece length pieces. Each stored piece is <em>pending</em> (verified, not yet decoded),
/// <em>pinned</em> (decoded, but a later copy of it — a duplicate piece, never fetched — is still ahead of the decoder)
/// or <em>kept</em> (decoded, held only to serve peers, evicted oldest first when room is needed). The window is
/// <c>[next, next + S − pinned)</c>, next being the piece the decoder needs, so pending + pinned ≤ S: a piece in the
/// window always finds room once kept pieces are evicted, the window always holds the next piece (no deadlock), and
/// scratch never grows past its capacity. Its end never moves back: decoding a piece that becomes pinned moves both
/// edges by one.
/// </para>
/// <para>
/// All-zero pieces and later copies of a duplicate are never fetched (the writer satisfies them locally by writing
/// here, which is ignored): the decoder feeds zeros, or the pinned first copy, in their place.
/// </para>
/// <para>
/// Reads serve peers from scratch; a piece no longer held throws <see cref="PieceNotHeldException"/>, which the swarm
/// answers with a reject.
/// </para>
/// </remarks>
internal sealed class StreamImageDevice : CompressedFileDevice
{
    // Raw bytes per write to the target: large, aligned, front to back.
    private const int RawWriteLength = 4 * 1024 * 1024;

    private readonly IImageManifest _manifest;
    private readonly StreamImage _image;
    private readonly IScratchStore _scratch;
    private readonly int _slots;

    // For a piece that has later copies: the index of its last copy.
    private readonly Dictionary<int, int> _lastCopy = [];
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _storing = new(1, 1);
    private readonly HashSet<int> _pending = [];
    private readonly HashSet<int> _pinned = [];
    private readonly LinkedList<int> _kept = new();
    private readonly Dictionary<int, int> _readers = [];
    private TaskCompletionSource _changed = NewSignal();
    private int _next;
    private long _peak;
    private long _rawWritten;

    /// <summary>Initializes a new instance over a raw target and a scratch store; neither is disposed with it.</summary>
    /// <exception cref="ArgumentException">The target is shorter than the raw image, or scratch holds no piece.</exception>
    public StreamImageDevice(IImageManifest manifest, StreamImage image, IBlockDevice raw, IScratchStore scratch)
        : base(raw, image?.RawLength ?? throw new ArgumentNullException(nameof(image)), image.RawSha256, image.CompressedLength, manifest?.PieceLength ?? throw new ArgumentNullException(nameof(manifest)), "compressed stream")
    {
        ArgumentNullException.ThrowIfNull(scratch);
        long slots = scratch.Capacity / manifest.PieceLength;
        if (slots < 1)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Scratch of {scratch.Capacity} bytes holds no piece of {manifest.PieceLength} bytes; a stream needs room for one piece at least."), nameof(scratch));
        }

        _manifest = manifest;
        _image = image;
        _scratch = scratch;
        _slots = (int)Math.Min(slots, int.MaxValue / 2);
        for (int i = 0; i < manifest.PieceCount; i++)
        {
            int canonical = manifest.GetCanonicalPiece(i);
            if (canonical != i && !manifest.IsZeroPiece(i))
            {
                _lastCopy[canonical] = i;
            }
        }

        Window = new StreamWindow(_slots);
    }

    /// <summary>Gets the pieces the swarm may start now.</summary>
    public StreamWindow Window { get; }

    /// <summary>Gets the most bytes scratch held at once.</summary>
    public long PeakScratchBytes => Interlocked.Read(ref _peak);

    /// <summary>Gets the raw bytes written to the target so far.</summary>
    public long RawBytesWritten => Interlocked.Read(ref _rawWritten);

    // All-zero pieces are "zeroed" here at no cost: the decoder feeds their zeros itself.
    public override bool CanZeroRange => true;

    /// <summary>
    /// Decodes the stream as its pieces arrive and writes the raw image to the target, then checks the raw length.
    /// Runs until the last piece is decoded; fails on a stream that does not decode to the raw image's length.
    /// </summary>
    /// <param name="cancellationToken">Stops the decoder.</param>
    /// <returns>A task that completes when the raw image is written.</returns>
    public async Task DecodeAsync(CancellationToken cancellationToken)
    {
        await Task.Yield();
        var pieces = new PieceStream(this, cancellationToken);
        Stream decoder = StreamFormats.OpenDecoder(_image.Format, pieces);
        await using ConfiguredAsyncDisposable decoderScope = decoder.ConfigureAwait(false);
        using var chunk = new AlignedBuffer(RawWriteLength);
        long offset = 0;
        try
        {
            while (true)
            {
                int fill = 0;
                int read;
                while (fill < chunk.Length && (read = await decoder.ReadAsync(chunk.Memory[fill..], cancellationToken).ConfigureAwait(false)) > 0)
                {
                    fill += read;
                }

                if (fill == 0)
                {
                    break;
                }

                if (fill > _image.RawLength - offset)
                {
                    throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The {StreamFormats.Name(_image.Format)} stream decodes to more than the manifest's raw length ({_image.RawLength} bytes)."));
                }

                await Raw.WriteAsync(offset, chunk.Memory[..fill], cancellationToken).ConfigureAwait(false);
                offset += fill;
                Interlocked.Add(ref _rawWritten, fill);
            }
        }
        catch (Exception e) when (e is not (OperationCanceledException or IOException or InvalidDataException or ObjectDisposedException))
        {
            // The decoders report corrupt input with their own exception types.
            throw new InvalidDataException($"The {StreamFormats.Name(_image.Format)} stream does not decode: {e.Message}", e);
        }

        if (offset != _image.RawLength)
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The {StreamFormats.Name(_image.Format)} stream decodes to {offset} bytes, not the manifest's raw length ({_image.RawLength})."));
        }

        // Whatever follows the end of the stream in the file is taken too, so the swarm's window reaches every piece.
        await pieces.DrainAsync().ConfigureAwait(false);
    }

    public override ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default)
    {
        CheckRange(offset, length);
        for (long at = offset; at < offset + length; at += _manifest.PieceLength)
        {
            if (!_manifest.IsZeroPiece((int)(at / _manifest.PieceLength)))
            {
                throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture, $"Only all-zero pieces of a compressed stream are zeroed; the piece at {at} is not one."));
            }
        }

        return ValueTask.CompletedTask;
    }

    public override ValueTask DisposeAsync()
    {
        _storing.Dispose();
        return ValueTask.CompletedTask;
    }

    protected override Task ReadPieceAsync(int piece, Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (_manifest.IsZeroPiece(piece))
        {
            destination.Span.Clear();
            return Task.CompletedTask;
        }

        return ReadHeldAsync(_manifest.GetCanonicalPiece(piece), destination, cancellationToken);
    }

    // Zero pieces and later copies are fed to the decoder from zeros and the first copy: nothing to keep.
    protected override Task WritePieceAsync(int piece, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _manifest.IsZeroPiece(piece) || _manifest.GetCanonicalPiece(piece) != piece ? Task.CompletedTask : StoreAsync(piece, data, cancellationToken);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Wakes whoever waits for a change (a piece stored, a read ended); call under the lock.</summary>
    private void SignalLocked()
    {
        _changed.TrySetResult();
        _changed = NewSignal();
    }

    private async Task StoreAsync(int piece, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _storing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (_lock)
            {
                if (piece < _next || _pending.Contains(piece))
                {
                    return; // Written again (a recheck, a second commit): the decoder has or had it.
                }

                if (!Window.Contains(piece))
                {
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Piece {piece} arrived outside the stream's window [{Window.Start}, {Window.End}): scratch would grow past its bound."));
                }
            }

            while (!await _scratch.TryStoreAsync(piece, data, cancellationToken).ConfigureAwait(false))
            {
                await EvictOneAsync(cancellationToken).ConfigureAwait(false);
            }

            lock (_lock)
            {
                _pending.Add(piece);
                long used = _scratch.BytesUsed;
                if (used > _peak)
                {
                    Interlocked.Exchange(ref _peak, used);
                }

                SignalLocked();
            }
        }
        finally
        {
            _storing.Release();
        }
    }

    /// <summary>Evicts the oldest kept piece nobody is reading, waiting for reads to end when every kept piece is being read.</summary>
    private async Task EvictOneAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int victim = -1;
            Task changed;
            lock (_lock)
            {
                for (LinkedListNode<int>? node = _kept.First; node is not null; node = node.Next)
                {
                    if (!_readers.ContainsKey(node.Value))
                    {
                        victim = node.Value;
                        _kept.Remove(node);
                        break;
                    }
                }

                if (victim < 0 && _kept.Count == 0)
                {
                    // pending + pinned ≤ S and the piece is in the window: unreachable unless scratch lies about its room.
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Scratch is full with {_pending.Count} pieces ahead of the decoder and {_pinned.Count} pinned, and holds nothing to evict."));
                }

                changed = _changed.Task;
            }

            if (victim >= 0)
            {
                await _scratch.RemoveAsync(victim, cancellationToken).ConfigureAwait(false);
                return;
            }

            await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ReadHeldAsync(int piece, Memory<byte> destination, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_pending.Contains(piece) && !_pinned.Contains(piece) && !_kept.Contains(piece))
            {
                throw new PieceNotHeldException(piece);
            }

            _readers[piece] = _readers.GetValueOrDefault(piece) + 1;
        }

        try
        {
            await _scratch.ReadAsync(piece, destination, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_lock)
            {
                if (--_readers[piece] == 0)
                {
                    _readers.Remove(piece);
                }

                SignalLocked();
            }
        }
    }

    /// <summary>Gets the decoder's next piece into <paramref name="destination"/>, waiting until it arrives, and moves the window past it.</summary>
    /// <returns>The piece's size, or 0 after the last piece.</returns>
    private async Task<int> TakeNextAsync(byte[] destination, CancellationToken cancellationToken)
    {
        int piece = Volatile.Read(ref _next);
        if (piece >= _manifest.PieceCount)
        {
            return 0;
        }

        int size = _manifest.GetPieceSize(piece);
        if (_manifest.IsZeroPiece(piece))
        {
            destination.AsSpan(0, size).Clear();
        }
        else
        {
            int source = _manifest.GetCanonicalPiece(piece);
            while (true)
            {
                Task changed;
                lock (_lock)
                {
                    if (_pending.Contains(source) || _pinned.Contains(source))
                    {
                        break;
                    }

                    changed = _changed.Task;
                }

                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            await _scratch.ReadAsync(source, destination.AsMemory(0, size), cancellationToken).ConfigureAwait(false);
        }

        Taken(piece);
        return size;
    }

    /// <summary>Records that the decoder has a piece: it leaves the pending set, the window moves past it.</summary>
    private void Taken(int piece)
    {
        int start, end;
        lock (_lock)
        {
            int canonical = _manifest.GetCanonicalPiece(piece);
            if (!_manifest.IsZeroPiece(piece) && canonical == piece)
            {
                _pending.Remove(piece);
                if (_lastCopy.ContainsKey(piece))
                {
                    _pinned.Add(piece);
                }
                else
                {
                    _kept.AddLast(piece);
                }
            }
            else if (!_manifest.IsZeroPiece(piece) && _lastCopy.GetValueOrDefault(canonical) == piece)
            {
                _pinned.Remove(canonical);
                _kept.AddLast(canonical);
            }

            _next = piece + 1;
            int room = _slots - _pinned.Count;
            if (room < 1)
            {
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"Scratch of {_scratch.Capacity} bytes is full of pieces that repeat later in the stream ({_pinned.Count} of them), with no room for the next piece: raise the scratch size."));
            }

            start = _next;
            end = Math.Max(Window.End, _next + room);
        }

        Window.Advance(start, end);
    }

    /// <summary>The compressed stream as the decoder reads it: the pieces in order, each taken from scratch when it arrives.</summary>
    private sealed class PieceStream(StreamImageDevice owner, CancellationToken cancellationToken) : Stream
    {
        private readonly byte[] _piece = new byte[owner._manifest.PieceLength];
        private int _position;
        private int _length;
        private long _consumed;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        // The xz decoder reads the position to find block padding: the bytes handed out so far.
        public override long Position
        {
            get => _consumed;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken token = default)
        {
            if (buffer.IsEmpty)
            {
                return 0;
            }

            if (_position == _length)
            {
                _length = await owner.TakeNextAsync(_piece, cancellationToken).ConfigureAwait(false);
                _position = 0;
                if (_length == 0)
                {
                    return 0;
                }
            }

            int count = Math.Min(buffer.Length, _length - _position);
            _piece.AsSpan(_position, count).CopyTo(buffer.Span);
            _position += count;
            _consumed += count;
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken token) =>
            ReadAsync(buffer.AsMemory(offset, count), token).AsTask();

        /// <summary>Takes every piece left, so the window reaches the end of the file.</summary>
        public async Task DrainAsync()
        {
            _position = _length;
            while (await owner.TakeNextAsync(_piece, cancellationToken).ConfigureAwait(false) > 0)
            {
            }
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

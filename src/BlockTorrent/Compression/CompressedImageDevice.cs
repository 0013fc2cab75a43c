using System.Buffers;
using System.Globalization;
using BlockTorrent.Buffers;
using BlockTorrent.Devices;

namespace BlockTorrent.Compression;

/// <summary>
/// The compressed file of a <see cref="CompressedImage"/>, as a device over the raw target: a piece written here is
/// decoded and its raw bytes written at their final offsets on the target; a piece read here is re-encoded from the
/// target's raw bytes. The writer and the swarm see an ordinary torrent file and need no change: a piece is verified
/// compressed, as every client verifies it, before it is decoded.
/// </summary>
/// <remarks>
/// <para>
/// Every call works on whole pieces at piece offsets (what the writer and the read cache do). Pieces are decoded and
/// encoded on pool threads, at most one per core at once, each through one raw buffer of the most a piece decodes to
/// (<see cref="CompressedImage.MaxPieceRawLength"/>), so memory stays bounded whatever the image's size or ratio.
/// </para>
/// <para>
/// The last pieces decoded (32 MiB of them) are kept as they came, verified, and served from there: the swarm asks
/// for what a target received last. Any other piece is re-encoded. Re-encoding is deterministic (same library and
/// level, one call over the raw range the manifest names, as the builder made it), so a piece read from a target that
/// holds its raw bytes hashes equal to the manifest; one that does not (other raw bytes, another encoder) comes back
/// as zeros, which fail every piece check: the read cache then stops offering it, and a recheck counts it missing.
/// </para>
/// </remarks>
internal sealed class CompressedImageDevice : CompressedFileDevice
{
    // Verified compressed pieces kept after they were decoded, oldest dropped first: the swarm asks a target for the
    // pieces it received last, and serving one of those then costs a copy, not a re-encoding.
    private const long KeptBytes = 32 * 1024 * 1024;

    private readonly CompressedImage _image;
    private readonly AlignedBufferPool _buffers;
    private readonly SemaphoreSlim _coders;
    private readonly int _frameBound;
    private readonly Dictionary<int, byte[]> _kept = [];
    private readonly Queue<int> _keptOrder = new();
    private long _keptBytes;

    private readonly bool _readOnly;

    /// <summary>Initializes a new instance over a raw target; the target is not disposed with it.</summary>
    /// <param name="image">The layout.</param>
    /// <param name="raw">The raw target.</param>
    /// <param name="readOnly">Whether pieces may only be read (re-encoded), as for seeding a deployed target.</param>
    /// <exception cref="ArgumentException">The target is shorter than the raw image.</exception>
    public CompressedImageDevice(CompressedImage image, IBlockDevice raw, bool readOnly = false)
        : base(raw, image?.RawLength ?? throw new ArgumentNullException(nameof(image)), image.RawSha256, image.CompressedLength, image.PieceLength, "compressed image")
    {
        _image = image;
        _readOnly = readOnly;
        int maxRaw = CompressedImage.MaxPieceRawLength(image.PieceLength);
        _buffers = new AlignedBufferPool(maxRaw);
        _coders = new SemaphoreSlim(Environment.ProcessorCount, Environment.ProcessorCount);
        _frameBound = ZstdFrames.CompressBound(maxRaw);
    }

    /// <summary>Makes every all-zero raw chunk read as zeros on the target, in runs, unless it is known zeroed.</summary>
    /// <param name="knownZeroed">Whether the target already reads as zeros (a fresh sparse file, a discarded disk).</param>
    /// <param name="cancellationToken">Cancels between runs.</param>
    /// <returns>The raw bytes made zero.</returns>
    public async Task<long> ZeroChunksAsync(bool knownZeroed, CancellationToken cancellationToken)
    {
        if (knownZeroed || _image.ZeroChunkCount == 0)
        {
            return 0;
        }

        long zeroed = 0;
        int chunk = 0;
        while (chunk < _image.ChunkCount)
        {
            if (!_image.IsZeroChunk(chunk))
            {
                chunk++;
                continue;
            }

            int first = chunk;
            while (chunk < _image.ChunkCount && _image.IsZeroChunk(chunk))
            {
                chunk++;
            }

            long offset = _image.ChunkOffset(first);
            long length = _image.ChunkOffset(chunk - 1) + _image.ChunkLength(chunk - 1) - offset;
            if (Raw.CanZeroRange)
            {
                await Raw.ZeroRangeAsync(offset, length, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await ZeroBuffer.WriteAsync(Raw.WriteGatherAsync, offset, length, cancellationToken).ConfigureAwait(false);
            }

            zeroed += length;
        }

        return zeroed;
    }

    public override ValueTask DisposeAsync()
    {
        lock (_kept)
        {
            foreach (byte[] kept in _kept.Values)
            {
                ArrayPool<byte>.Shared.Return(kept);
            }

            _kept.Clear();
            _keptOrder.Clear();
        }

        _buffers.Dispose();
        _coders.Dispose();
        return ValueTask.CompletedTask;
    }

    protected override Task ReadPieceAsync(int piece, Memory<byte> destination, CancellationToken cancellationToken) =>
        EncodePieceAsync(piece, destination, cancellationToken);

    public override bool IsReadOnly => _readOnly || base.IsReadOnly;

    protected override Task WritePieceAsync(int piece, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _readOnly
            ? throw new NotSupportedException("This compressed image is open to be read (seeded) only.")
            : Task.Run(() => DecodePieceAsync(piece, data, cancellationToken), cancellationToken);

    private async Task DecodePieceAsync(int piece, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _coders.WaitAsync(cancellationToken).ConfigureAwait(false);
        AlignedBuffer buffer = _buffers.Rent();
        try
        {
            int rawLength = _image.PieceRawLength(piece);
            int frameLength = rawLength == 0 ? 0 : ZstdFrames.FrameLength(data.Span);
            if (frameLength < 0
                || (rawLength > 0 && !ZstdFrames.TryDecompress(data.Span[..frameLength], buffer.Memory.Span[..rawLength]))
                || !OnlyPaddingFrom(data.Span, frameLength))
            {
                throw Corrupt(piece);
            }

            await WriteRunsAsync(piece, buffer.Memory[..rawLength], cancellationToken).ConfigureAwait(false);
            Keep(piece, data.Span);
        }
        finally
        {
            _buffers.Return(buffer);
            _coders.Release();
        }
    }

    /// <summary>Writes a piece's decoded bytes at their raw offsets, each run of adjacent chunks as one write.</summary>
    private async Task WriteRunsAsync(int piece, ReadOnlyMemory<byte> decoded, CancellationToken cancellationToken)
    {
        int within = 0;
        while (within < decoded.Length)
        {
            (long rawOffset, int length) = _image.RunAt(piece, within, decoded.Length - within);
            await Raw.WriteAsync(rawOffset, decoded.Slice(within, length), cancellationToken).ConfigureAwait(false);
            within += length;
        }
    }

    /// <summary>Reads a piece's raw bytes from their offsets into <paramref name="destination"/>, of the piece's raw length.</summary>
    private async Task ReadRunsAsync(int piece, Memory<byte> destination, CancellationToken cancellationToken)
    {
        int within = 0;
        while (within < destination.Length)
        {
            (long rawOffset, int length) = _image.RunAt(piece, within, destination.Length - within);
            await RawImageHash.ReadExactlyAsync(Raw, rawOffset, destination.Slice(within, length), cancellationToken).ConfigureAwait(false);
            within += length;
        }
    }

    private static bool OnlyPaddingFrom(ReadOnlySpan<byte> data, int position)
    {
        while (position < data.Length)
        {
            if (!ZstdFrames.IsSkippable(data[position..]))
            {
                return false;
            }

            int skip = ZstdFrames.SkippableLength(data[position..]);
            if (skip < 0)
            {
                return false;
            }

            position += skip;
        }

        return true;
    }

    private InvalidDataException Corrupt(int piece) =>
        new(string.Create(CultureInfo.InvariantCulture, $"Piece {piece} of the compressed image passed its hash check but is not one zstd frame of the {_image.PieceRawLength(piece)} raw bytes the manifest lists, then padding: the manifest was not made from this file."));

    private void Keep(int piece, ReadOnlySpan<byte> data)
    {
        lock (_kept)
        {
            if (_kept.ContainsKey(piece))
            {
                return;
            }

            byte[] copy = ArrayPool<byte>.Shared.Rent(data.Length);
            data.CopyTo(copy);
            _kept.Add(piece, copy);
            _keptOrder.Enqueue(piece);
            _keptBytes += data.Length;
            while (_keptBytes > KeptBytes && _keptOrder.TryDequeue(out int oldest))
            {
                if (_kept.Remove(oldest, out byte[]? dropped))
                {
                    _keptBytes -= PieceSize(oldest);
                    ArrayPool<byte>.Shared.Return(dropped);
                }
            }
        }
    }

    private bool TryCopyKept(int piece, Span<byte> destination)
    {
        lock (_kept)
        {
            if (!_kept.TryGetValue(piece, out byte[]? kept))
            {
                return false;
            }

            kept.AsSpan(0, destination.Length).CopyTo(destination);
            return true;
        }
    }

    private async Task EncodePieceAsync(int piece, Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (TryCopyKept(piece, destination.Span))
        {
            return;
        }

        await _coders.WaitAsync(cancellationToken).ConfigureAwait(false);
        AlignedBuffer buffer = _buffers.Rent();
        byte[] frame = ArrayPool<byte>.Shared.Rent(_frameBound);
        try
        {
            int rawLength = _image.PieceRawLength(piece);
            await ReadRunsAsync(piece, buffer.Memory[..rawLength], cancellationToken).ConfigureAwait(false);
            int size = rawLength == 0 ? 0 : ZstdFrames.Compress(buffer.Memory.Span[..rawLength], frame, _image.CompressionLevel);
            int rest = destination.Length - size;
            if (rest == 0 || rest >= ZstdFrames.SkippableHeaderLength)
            {
                frame.AsSpan(0, size).CopyTo(destination.Span);
                if (rest > 0)
                {
                    ZstdFrames.WritePadding(destination.Span[size..]);
                }
            }
            else
            {
                // Not the manifest's piece: zeros fail every check, where a partial encoding might be mistaken for it.
                destination.Span.Clear();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
            _buffers.Return(buffer);
            _coders.Release();
        }
    }
}

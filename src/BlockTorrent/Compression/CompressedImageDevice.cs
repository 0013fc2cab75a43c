using System.Buffers;
using System.Globalization;
using BlockTorrent.Buffers;
using BlockTorrent.Devices;

namespace BlockTorrent.Compression;

/// <summary>
/// The compressed file of a <see cref="CompressedImage"/>, as a device over the raw target: a piece written here is
/// decoded and its raw frames written at their final offsets on the target; a piece read here is re-encoded from the
/// target's raw frames. The writer and the swarm see an ordinary torrent file and need no change: a piece is verified
/// compressed, as every client verifies it, before it is decoded.
/// </summary>
/// <remarks>
/// <para>
/// Every call works on whole pieces at piece offsets (what the writer and the read cache do). Pieces are decoded and
/// encoded on pool threads, at most one per core at once, each through one raw chunk buffer of at least a frame, so
/// memory stays bounded whatever the image's size or ratio.
/// </para>
/// <para>
/// The last pieces decoded (32 MiB of them) are kept as they came, verified, and served from there: the swarm asks
/// for what a target received last. Any other piece is re-encoded. Re-encoding is deterministic (same library, level
/// and frame size), so a piece read from a target that holds its
/// raw frames hashes equal to the manifest; one that does not (other raw bytes, another encoder) comes back as zeros,
/// which fail every piece check: the read cache then stops offering it, and a recheck counts it missing.
/// </para>
/// </remarks>
internal sealed class CompressedImageDevice : CompressedFileDevice
{
    private const int MinChunkLength = 1024 * 1024;

    // Verified compressed pieces kept after they were decoded, oldest dropped first: the swarm asks a target for the
    // pieces it received last, and serving one of those then costs a copy, not a re-encoding.
    private const long KeptBytes = 32 * 1024 * 1024;

    private readonly CompressedImage _image;
    private readonly AlignedBufferPool _chunks;
    private readonly SemaphoreSlim _coders;
    private readonly int _frameBound;
    private readonly Dictionary<int, byte[]> _kept = [];
    private readonly Queue<int> _keptOrder = new();
    private long _keptBytes;

    /// <summary>Initializes a new instance over a raw target; the target is not disposed with it.</summary>
    /// <exception cref="ArgumentException">The target is shorter than the raw image.</exception>
    public CompressedImageDevice(CompressedImage image, IBlockDevice raw)
        : base(raw, image?.RawLength ?? throw new ArgumentNullException(nameof(image)), image.RawSha256, image.CompressedLength, image.PieceLength, "compressed image")
    {
        _image = image;
        _chunks = new AlignedBufferPool(Math.Max(image.FrameSize, MinChunkLength));
        _coders = new SemaphoreSlim(Environment.ProcessorCount, Environment.ProcessorCount);
        _frameBound = ZstdFrames.CompressBound(image.FrameSize);
    }

    /// <summary>Makes every all-zero raw frame read as zeros on the target, in runs, unless it is known zeroed.</summary>
    /// <param name="knownZeroed">Whether the target already reads as zeros (a fresh sparse file, a discarded disk).</param>
    /// <param name="cancellationToken">Cancels between runs.</param>
    /// <returns>The raw bytes made zero.</returns>
    public async Task<long> ZeroFramesAsync(bool knownZeroed, CancellationToken cancellationToken)
    {
        if (knownZeroed || _image.ZeroFrameCount == 0)
        {
            return 0;
        }

        long zeroed = 0;
        int frame = 0;
        while (frame < _image.FrameCount)
        {
            if (!_image.IsZeroFrame(frame))
            {
                frame++;
                continue;
            }

            int first = frame;
            while (frame < _image.FrameCount && _image.IsZeroFrame(frame))
            {
                frame++;
            }

            long offset = _image.FrameOffset(first);
            long length = _image.FrameOffset(frame - 1) + _image.FrameLength(frame - 1) - offset;
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

        _chunks.Dispose();
        _coders.Dispose();
        return ValueTask.CompletedTask;
    }

    protected override Task ReadPieceAsync(int piece, Memory<byte> destination, CancellationToken cancellationToken) =>
        EncodePieceAsync(piece, destination, cancellationToken);

    protected override Task WritePieceAsync(int piece, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        Task.Run(() => DecodePieceAsync(piece, data, cancellationToken), cancellationToken);

    private async Task DecodePieceAsync(int piece, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        await _coders.WaitAsync(cancellationToken).ConfigureAwait(false);
        AlignedBuffer chunk = _chunks.Rent();
        try
        {
            int frames = _image.FramesOf(piece).Length;
            int next = 0;
            int position = 0;
            while (next < frames)
            {
                long rawOffset = _image.FrameOffset(_image.FramesOf(piece)[next]);
                int first = next;
                int fill = DecodeRun(piece, data.Span, ref position, ref next, chunk.Memory.Span);
                if (next == first)
                {
                    throw Corrupt(piece, position);
                }

                await Raw.WriteAsync(rawOffset, chunk.Memory[..fill], cancellationToken).ConfigureAwait(false);
            }

            if (!OnlyPaddingFrom(data.Span, position))
            {
                throw Corrupt(piece, position);
            }

            Keep(piece, data.Span);
        }
        finally
        {
            _chunks.Return(chunk);
            _coders.Release();
        }
    }

    /// <summary>Decodes the piece's frames from <paramref name="next"/> on while they are adjacent on the target and fit the chunk.</summary>
    /// <returns>The raw bytes decoded into the chunk.</returns>
    private int DecodeRun(int piece, ReadOnlySpan<byte> data, ref int position, ref int next, Span<byte> chunk)
    {
        ReadOnlySpan<int> frames = _image.FramesOf(piece);
        long start = _image.FrameOffset(frames[next]);
        int fill = 0;
        while (next < frames.Length)
        {
            int frame = frames[next];
            int rawLength = _image.FrameLength(frame);
            if (_image.FrameOffset(frame) != start + fill || fill + rawLength > chunk.Length)
            {
                break;
            }

            while (ZstdFrames.IsSkippable(data[position..]))
            {
                int skip = ZstdFrames.SkippableLength(data[position..]);
                if (skip < 0)
                {
                    throw Corrupt(piece, position);
                }

                position += skip;
            }

            int size = ZstdFrames.FrameLength(data[position..]);
            if (size < 0 || !ZstdFrames.TryDecompress(data.Slice(position, size), chunk.Slice(fill, rawLength)))
            {
                throw Corrupt(piece, position);
            }

            position += size;
            fill += rawLength;
            next++;
        }

        return fill;
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

    private InvalidDataException Corrupt(int piece, int position) =>
        new(string.Create(CultureInfo.InvariantCulture, $"Piece {piece} of the compressed image passed its hash check but does not decode to the frames the manifest lists (at byte {position} of the piece): the manifest was not made from this file."));

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
        AlignedBuffer chunk = _chunks.Rent();
        byte[] frame = ArrayPool<byte>.Shared.Rent(_frameBound);
        try
        {
            int frames = _image.FramesOf(piece).Length;
            int next = 0;
            int position = 0;
            bool fits = true;
            while (next < frames && fits)
            {
                (long rawOffset, int count, int bytes) = PlanRun(piece, next, chunk.Length);
                await RawImageHash.ReadExactlyAsync(Raw, rawOffset, chunk.Memory[..bytes], cancellationToken).ConfigureAwait(false);
                fits = EncodeRun(piece, next, count, chunk.Memory.Span, frame, destination.Span, ref position);
                next += count;
            }

            int rest = destination.Length - position;
            if (fits && rest >= ZstdFrames.SkippableHeaderLength)
            {
                ZstdFrames.WritePadding(destination.Span[position..]);
            }
            else if (!fits || rest != 0)
            {
                // Not the manifest's piece: zeros fail every check, where a partial encoding might be mistaken for it.
                destination.Span.Clear();
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(frame);
            _chunks.Return(chunk);
            _coders.Release();
        }
    }

    /// <summary>Plans a read of the piece's frames from <paramref name="next"/> on that are adjacent on the target and fit a chunk.</summary>
    private (long Offset, int Count, int Bytes) PlanRun(int piece, int next, int chunkLength)
    {
        ReadOnlySpan<int> frames = _image.FramesOf(piece);
        long start = _image.FrameOffset(frames[next]);
        int bytes = 0;
        int count = 0;
        while (next + count < frames.Length)
        {
            int frame = frames[next + count];
            int rawLength = _image.FrameLength(frame);
            if (_image.FrameOffset(frame) != start + bytes || bytes + rawLength > chunkLength)
            {
                break;
            }

            bytes += rawLength;
            count++;
        }

        return (start, count, bytes);
    }

    private bool EncodeRun(int piece, int next, int count, ReadOnlySpan<byte> raw, Span<byte> frame, Span<byte> destination, ref int position)
    {
        ReadOnlySpan<int> frames = _image.FramesOf(piece);
        int offset = 0;
        for (int i = next; i < next + count; i++)
        {
            int rawLength = _image.FrameLength(frames[i]);
            int size = ZstdFrames.Compress(raw.Slice(offset, rawLength), frame, _image.CompressionLevel);
            if (size > destination.Length - position)
            {
                return false;
            }

            frame[..size].CopyTo(destination[position..]);
            position += size;
            offset += rawLength;
        }

        return true;
    }
}

using System.Buffers;
using ZstdSharp;

namespace BlockTorrent.Compression;

/// <summary>
/// Finds how much of a seekable image's data the next piece holds: the longest prefix, ending at a multiple of
/// <see cref="CompressedImage.CutAlignment"/> (or at the data's end), whose one zstd frame fits the piece and leaves
/// either nothing or room for a skippable frame. Only the builder fits pieces; a target re-encodes the range the
/// manifest names with <see cref="ZstdFrames.Compress"/>, as the builder made the frame, so the two agree byte for byte.
/// </summary>
/// <remarks>
/// A first pass streams the data through a compressor with a flush every <see cref="Step"/> bytes, which tells the
/// compressed size of each prefix so far for one compression's work; flushing costs a few bytes, so that estimate is a
/// little above the frame made in one call. The frame is then made in one call; if it does not fit the prefix
/// shrinks, and if it leaves room the prefix grows once by the room at the frame's own ratio.
/// </remarks>
internal sealed class PieceFitter : IDisposable
{
    /// <summary>The data between two flushes of the first pass.</summary>
    private const int Step = 16 * 1024;

    // A zstd frame ends with an empty last block when the stream is ended after a flush.
    private const int EndBlockLength = 3;

    private readonly Compressor _estimator;
    private readonly byte[] _scratch = new byte[ZstdFrames.CompressBound(Step) + 1024];
    private readonly int _pieceLength;
    private readonly int _maxRaw;
    private readonly int _level;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="pieceLength">The torrent's piece length.</param>
    /// <param name="level">The zstd level.</param>
    public PieceFitter(int pieceLength, int level)
    {
        _pieceLength = pieceLength;
        _maxRaw = CompressedImage.MaxPieceRawLength(pieceLength);
        _level = level;
        _estimator = new Compressor(level);
        Frame = new byte[ZstdFrames.CompressBound(_maxRaw)];
    }

    /// <summary>Gets the buffer <see cref="Fit"/> leaves the piece's frame in.</summary>
    public byte[] Frame { get; }

    /// <summary>Fits the next piece to the front of <paramref name="data"/>.</summary>
    /// <param name="data">The data not yet in a piece; all of it when <paramref name="final"/>, else at least a piece's worth.</param>
    /// <param name="final">Whether <paramref name="data"/> ends the image's data.</param>
    /// <returns>The data bytes the piece holds and the length of its frame in <see cref="Frame"/>.</returns>
    public (int RawLength, int FrameLength) Fit(ReadOnlySpan<byte> data, bool final)
    {
        int limit = Math.Min(data.Length, _maxRaw);
        int raw = Estimate(data[..limit]);
        int size = ZstdFrames.Compress(data[..raw], Frame, _level);
        while (!Fits(size, raw == data.Length && final))
        {
            if (raw <= CompressedImage.CutAlignment)
            {
                throw new ArgumentException($"Pieces of {_pieceLength} bytes cannot hold the zstd frame of {raw} raw bytes.");
            }

            int smaller = Align((int)((long)raw * (_pieceLength - 64) / size));
            raw = Math.Max(CompressedImage.CutAlignment, Math.Min(raw - CompressedImage.CutAlignment, smaller));
            size = ZstdFrames.Compress(data[..raw], Frame, _level);
        }

        int room = _pieceLength - size;
        if (raw < limit && room > 256)
        {
            int larger = Math.Min(limit, raw + Align((int)((long)raw * (room - 64) / Math.Max(size, 1) * 9 / 10)));
            if (larger > raw)
            {
                byte[] candidate = ArrayPool<byte>.Shared.Rent(ZstdFrames.CompressBound(larger));
                try
                {
                    int grown = ZstdFrames.Compress(data[..larger], candidate, _level);
                    if (Fits(grown, larger == data.Length && final))
                    {
                        candidate.AsSpan(0, grown).CopyTo(Frame);
                        raw = larger;
                        size = grown;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(candidate);
                }
            }
        }

        return (raw, size);
    }

    /// <inheritdoc/>
    public void Dispose() => _estimator.Dispose();

    private static int Align(int length) => length / CompressedImage.CutAlignment * CompressedImage.CutAlignment;

    /// <summary>Gets whether a frame fits the piece: exactly, with room for padding, or as the file's shorter last piece.</summary>
    private bool Fits(int size, bool last) =>
        size <= _pieceLength && (last || size == _pieceLength || _pieceLength - size >= ZstdFrames.SkippableHeaderLength);

    /// <summary>Gets the longest prefix, in steps, whose flushed stream fits the piece (at least one step, or all of a shorter <paramref name="data"/>).</summary>
    private int Estimate(ReadOnlySpan<byte> data)
    {
        _estimator.ResetStream();
        long total = 0;
        int raw = 0;
        while (raw < data.Length)
        {
            ReadOnlySpan<byte> step = data.Slice(raw, Math.Min(Step, data.Length - raw));
            long added = 0;
            while (!step.IsEmpty)
            {
                _estimator.WrapStream(step, _scratch, out int consumed, out int written, false);
                step = step[consumed..];
                added += written;
            }

            OperationStatus status;
            do
            {
                status = _estimator.FlushStream(_scratch, out int written);
                added += written;
            }
            while (status == OperationStatus.DestinationTooSmall);

            if (raw > 0 && total + added + EndBlockLength > _pieceLength)
            {
                break;
            }

            total += added;
            raw += Math.Min(Step, data.Length - raw);
        }

        return raw;
    }
}

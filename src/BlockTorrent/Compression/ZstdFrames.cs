using System.Buffers.Binary;
using ZstdSharp;
using ZstdSharp.Unsafe;

namespace BlockTorrent.Compression;

/// <summary>
/// The zstd calls a compressed image needs, on contexts kept per thread (made once, reused for every frame): one
/// frame compressed, one frame found and decoded, and the skippable frames that pad a piece.
/// </summary>
/// <remarks>
/// Making and re-making a piece must give the same bytes: both go through <see cref="Compress"/>, one call over the
/// piece's whole raw range into a buffer of at least its compress bound, with the same level and no other parameter set.
/// </remarks>
internal static unsafe class ZstdFrames
{
    /// <summary>The length of a skippable frame's header (magic and size); the shortest padding.</summary>
    public const int SkippableHeaderLength = 8;

    private const uint SkippableMagic = 0x184D2A50;
    private const uint SkippableMagicMask = 0xFFFFFFF0;

    [ThreadStatic]
    private static Compressor? t_compressor;

    [ThreadStatic]
    private static Decompressor? t_decompressor;

    /// <summary>Gets the most bytes a frame of <paramref name="rawLength"/> bytes compresses to.</summary>
    public static int CompressBound(int rawLength) => Compressor.GetCompressBound(rawLength);

    /// <summary>Compresses raw bytes into one zstd frame.</summary>
    /// <param name="raw">The raw bytes.</param>
    /// <param name="destination">At least <see cref="CompressBound"/> of the raw length.</param>
    /// <param name="level">The zstd level.</param>
    /// <returns>The frame's length.</returns>
    public static int Compress(ReadOnlySpan<byte> raw, Span<byte> destination, int level)
    {
        Compressor compressor = t_compressor ??= new Compressor(level);
        if (compressor.Level != level)
        {
            compressor.Level = level;
        }

        return compressor.Wrap(raw, destination);
    }

    /// <summary>Gets the length of the zstd frame that starts <paramref name="data"/>, or -1 when none does.</summary>
    public static int FrameLength(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return -1;
        }

        nuint length;
        fixed (byte* p = data)
        {
            length = Methods.ZSTD_findFrameCompressedSize(p, (nuint)data.Length);
        }

        return Methods.ZSTD_isError(length) || length > (nuint)data.Length ? -1 : (int)length;
    }

    /// <summary>Decodes one zstd frame into exactly <paramref name="destination"/>.</summary>
    /// <returns><see langword="true"/> when the frame decoded to exactly the destination's length.</returns>
    public static bool TryDecompress(ReadOnlySpan<byte> frame, Span<byte> destination)
    {
        Decompressor decompressor = t_decompressor ??= new Decompressor();
        return decompressor.TryUnwrap(frame, destination, out int written) && written == destination.Length;
    }

    /// <summary>Gets a value indicating whether a skippable frame starts <paramref name="data"/>.</summary>
    public static bool IsSkippable(ReadOnlySpan<byte> data) =>
        data.Length >= SkippableHeaderLength && (BinaryPrimitives.ReadUInt32LittleEndian(data) & SkippableMagicMask) == SkippableMagic;

    /// <summary>Gets the whole length of the skippable frame that starts <paramref name="data"/>, or -1 when it overruns.</summary>
    public static int SkippableLength(ReadOnlySpan<byte> data)
    {
        uint size = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        return size > (uint)(data.Length - SkippableHeaderLength) ? -1 : SkippableHeaderLength + (int)size;
    }

    /// <summary>Fills <paramref name="destination"/> (at least <see cref="SkippableHeaderLength"/> bytes) with one skippable frame of zeros.</summary>
    public static void WritePadding(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, SkippableMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)(destination.Length - SkippableHeaderLength));
        destination[SkippableHeaderLength..].Clear();
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using BlockTorrent.Bencode;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;

namespace BlockTorrent.Compression;

/// <summary>
/// What a manifest says about a seekable compressed image: the torrent's file is a sequence of independent zstd
/// frames, each the compression of one fixed-size raw frame of the image, packed whole into pieces (a piece ends with a
/// zstd skippable frame as padding when the next frame does not fit); all-zero raw frames are left out. Each piece
/// therefore decodes on its own to raw frames at known offsets, in any order. See docs/COMPRESSED-IMAGES.md.
/// </summary>
/// <remarks>
/// The layout lives in the info dictionary under the key <c>blocktorrent</c>, so the info-hash covers it (a changed
/// layout is another torrent) and a magnet link's metadata carries it; other clients ignore the key and see one
/// ordinary file.
/// </remarks>
public sealed class CompressedImage
{
    /// <summary>The name of the one format so far: independent zstd frames.</summary>
    public const string ZstdFormat = "zstd";

    private const int MinFrameSize = 4096;
    private const int MaxFrameSize = 16 * 1024 * 1024;

    private readonly byte[] _rawSha256;
    private readonly byte[] _zeroFrames;

    // For piece p: its encoded frames are ordinals _firstOrdinal[p] to _firstOrdinal[p + 1] - 1; ordinal k is raw frame _frameOf[k].
    private readonly long[] _firstOrdinal;
    private readonly int[] _frameOf;

    private CompressedImage(string format, long rawLength, byte[] rawSha256, int frameSize, int level, long compressedLength, int pieceLength, byte[] zeroFrames, long[] firstOrdinal, int[] frameOf)
    {
        Format = format;
        RawLength = rawLength;
        _rawSha256 = rawSha256;
        FrameSize = frameSize;
        CompressionLevel = level;
        CompressedLength = compressedLength;
        PieceLength = pieceLength;
        _zeroFrames = zeroFrames;
        _firstOrdinal = firstOrdinal;
        _frameOf = frameOf;
        FrameCount = (int)((rawLength + frameSize - 1) / frameSize);
        ZeroFrameCount = FrameCount - frameOf.Length;
    }

    /// <summary>Gets the compression format (<see cref="ZstdFormat"/>).</summary>
    public string Format { get; }

    /// <summary>Gets the length of the raw image, as it lands on the device.</summary>
    public long RawLength { get; }

    /// <summary>Gets the SHA-256 of the raw image, checked on the device before a deployment reports success.</summary>
    public ReadOnlySpan<byte> RawSha256 => _rawSha256;

    /// <summary>Gets the raw bytes each frame holds (the last frame may hold fewer).</summary>
    public int FrameSize { get; }

    /// <summary>Gets the zstd level the frames were made with (a target re-encodes raw frames with it to serve pieces).</summary>
    public int CompressionLevel { get; }

    /// <summary>Gets the length of the compressed file: the torrent's length.</summary>
    public long CompressedLength { get; }

    /// <summary>Gets the number of raw frames, all-zero ones included.</summary>
    public int FrameCount { get; }

    /// <summary>Gets the number of all-zero raw frames, which are not in the compressed file.</summary>
    public int ZeroFrameCount { get; }

    /// <summary>Gets the raw length divided by the compressed length.</summary>
    public double Ratio => CompressedLength == 0 ? 0 : (double)RawLength / CompressedLength;

    internal int PieceLength { get; }

    internal int PieceCount => _firstOrdinal.Length - 1;

    /// <summary>Reads the layout of a compressed image from its manifest.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <returns>The layout, or <see langword="null"/> when the manifest describes a raw image or a stream (<see cref="StreamImage"/>).</returns>
    /// <exception cref="InvalidTorrentException">The manifest carries a layout that is malformed or does not fit its pieces.</exception>
    public static CompressedImage? FromManifest(TorrentManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return ImageInfoEntry.Read(manifest) is { IsStream: false } entry ? FromEntry(entry, manifest) : null;
    }

    /// <summary>Hashes the first <see cref="RawLength"/> bytes of a device and compares them with <see cref="RawSha256"/>.</summary>
    /// <param name="device">The device holding the raw image.</param>
    /// <param name="cancellationToken">Cancels between reads.</param>
    /// <returns><see langword="true"/> when the device holds the raw image.</returns>
    /// <exception cref="ArgumentException">The device is shorter than the raw image.</exception>
    public Task<bool> MatchesRawAsync(IBlockDevice device, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(device);
        return RawImageHash.MatchesAsync(device, RawLength, _rawSha256, cancellationToken);
    }

    /// <summary>Gets the raw offset of a frame.</summary>
    internal long FrameOffset(int frame) => (long)frame * FrameSize;

    /// <summary>Gets the raw length of a frame: <see cref="FrameSize"/> for all but possibly the last.</summary>
    internal int FrameLength(int frame) => (int)Math.Min(FrameSize, RawLength - FrameOffset(frame));

    /// <summary>Gets a value indicating whether a raw frame is all zeros (and so not in the compressed file).</summary>
    internal bool IsZeroFrame(int frame) => (_zeroFrames[frame >> 3] & (0x80 >> (frame & 7))) != 0;

    /// <summary>Gets the encoded frames of a piece, in order, as raw frame indices.</summary>
    internal ReadOnlySpan<int> FramesOf(int piece) => _frameOf.AsSpan((int)_firstOrdinal[piece], (int)(_firstOrdinal[piece + 1] - _firstOrdinal[piece]));

    /// <summary>Writes the info dictionary entry (key and value) of a layout, for <see cref="ManifestBuilder"/>.</summary>
    internal static byte[] EncodeInfoEntry(long rawLength, ReadOnlySpan<byte> rawSha256, int frameSize, int level, ReadOnlySpan<int> framesPerPiece, ReadOnlySpan<byte> zeroFrames)
    {
        byte[] counts = new byte[framesPerPiece.Length * sizeof(uint)];
        for (int i = 0; i < framesPerPiece.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(counts.AsSpan(i * sizeof(uint)), (uint)framesPerPiece[i]);
        }

        var buffer = new ArrayBufferWriter<byte>(counts.Length + zeroFrames.Length + 256);
        var writer = new BencodeWriter(buffer);
        writer.WriteString(ImageInfoEntry.InfoKey);

        // Keys in ascending byte order, as bencode's canonical form requires.
        writer.WriteStartDictionary();
        writer.WriteString("compression");
        writer.WriteString(ZstdFormat);
        writer.WriteString("frame size");
        writer.WriteInteger(frameSize);
        writer.WriteString("frames");
        writer.WriteString(counts);
        writer.WriteString("length");
        writer.WriteInteger(rawLength);
        writer.WriteString("level");
        writer.WriteInteger(level);
        writer.WriteString("sha256");
        writer.WriteString(rawSha256);
        writer.WriteString("zero frames");
        writer.WriteString(zeroFrames);
        writer.WriteEnd();
        return buffer.WrittenSpan.ToArray();
    }

    private static CompressedImage FromEntry(ImageInfoEntry entry, TorrentManifest manifest)
    {
        string? format = entry.Compression;
        byte[]? counts = entry.Frames;
        byte[]? zeroFrames = entry.ZeroFrames;
        if (format != ZstdFormat)
        {
            throw ImageInfoEntry.Invalid($"the compression '{format}' is not one this library decodes (only '{ZstdFormat}').");
        }

        if (entry.FrameSize is not { } f || f < MinFrameSize || f > MaxFrameSize || (f & (f - 1)) != 0)
        {
            throw ImageInfoEntry.Invalid($"the frame size must be a power of two from {MinFrameSize} to {MaxFrameSize}.");
        }

        if (entry.Length is not { } raw || raw < 0 || (raw + f - 1) / f > int.MaxValue)
        {
            throw ImageInfoEntry.Invalid("the raw length is missing or out of range.");
        }

        if (entry.Level is not { } l || l < -131072 || l > 22)
        {
            throw ImageInfoEntry.Invalid("the zstd level is missing or out of range.");
        }

        byte[] sha256 = entry.RawSha256();
        int frames = (int)((raw + f - 1) / f);
        if (zeroFrames is null || zeroFrames.Length != (frames + 7) / 8 || (frames % 8 != 0 && (zeroFrames[^1] & (0xFF >> (frames % 8))) != 0))
        {
            throw ImageInfoEntry.Invalid(string.Create(CultureInfo.InvariantCulture, $"the zero-frame map must be {(frames + 7) / 8} bytes with no bits past frame {frames}."));
        }

        if (counts is null || counts.Length != manifest.PieceCount * sizeof(uint))
        {
            throw ImageInfoEntry.Invalid(string.Create(CultureInfo.InvariantCulture, $"the frame counts must be {manifest.PieceCount} 4-byte numbers, one per piece."));
        }

        var frameOf = new List<int>(frames);
        for (int i = 0; i < frames; i++)
        {
            if ((zeroFrames[i >> 3] & (0x80 >> (i & 7))) == 0)
            {
                frameOf.Add(i);
            }
        }

        long[] firstOrdinal = new long[manifest.PieceCount + 1];
        for (int p = 0; p < manifest.PieceCount; p++)
        {
            firstOrdinal[p + 1] = firstOrdinal[p] + BinaryPrimitives.ReadUInt32BigEndian(counts.AsSpan(p * sizeof(uint)));
        }

        if (firstOrdinal[^1] != frameOf.Count)
        {
            throw ImageInfoEntry.Invalid(string.Create(CultureInfo.InvariantCulture, $"the pieces hold {firstOrdinal[^1]} frames, but the image has {frameOf.Count} that are not all zeros."));
        }

        return new CompressedImage(format, raw, sha256, (int)f, (int)l, manifest.Length, manifest.PieceLength, zeroFrames, firstOrdinal, [.. frameOf]);
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using BlockTorrent.Bencode;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;

namespace BlockTorrent.Compression;

/// <summary>
/// What a manifest says about a seekable compressed image: the raw image's all-zero chunks are left out, the rest
/// (its <em>data</em>, the non-zero chunks in order) is cut into consecutive ranges, and each piece of the torrent's
/// file is one zstd frame of one range, padded to the piece length with a zstd skippable frame. Each piece therefore
/// decodes on its own to raw bytes at known offsets, in any order. See docs/COMPRESSED-IMAGES.md.
/// </summary>
/// <remarks>
/// The layout lives in the info dictionary under the key <c>blocktorrent</c>, so the info-hash covers it (a changed
/// layout is another torrent) and a magnet link's metadata carries it; other clients ignore the key and see one
/// ordinary file.
/// </remarks>
public sealed class CompressedImage
{
    /// <summary>The name of the one format so far: zstd.</summary>
    public const string ZstdFormat = "zstd";

    /// <summary>The version of the layout this library writes and reads.</summary>
    public const int LayoutVersion = 2;

    /// <summary>Where a piece's range of data may end: a multiple of this from the data's start, or the data's end.</summary>
    internal const int CutAlignment = 4096;

    private const int MinChunkSize = CutAlignment;
    private const int MaxChunkSize = 16 * 1024 * 1024;

    private readonly byte[] _rawSha256;
    private readonly byte[] _zeroChunks;

    // Piece p decodes to data bytes [_dataStart[p], _dataStart[p + 1]); data byte d is in non-zero chunk _chunkOf[d / ChunkSize]
    // (every chunk but the image's last is whole, and the last is last in the data too).
    private readonly long[] _dataStart;
    private readonly int[] _chunkOf;

    private CompressedImage(string format, long rawLength, byte[] rawSha256, int chunkSize, int level, long compressedLength, int pieceLength, byte[] zeroChunks, long[] dataStart, int[] chunkOf)
    {
        Format = format;
        RawLength = rawLength;
        _rawSha256 = rawSha256;
        ChunkSize = chunkSize;
        CompressionLevel = level;
        CompressedLength = compressedLength;
        PieceLength = pieceLength;
        _zeroChunks = zeroChunks;
        _dataStart = dataStart;
        _chunkOf = chunkOf;
        ChunkCount = (int)((rawLength + chunkSize - 1) / chunkSize);
        ZeroChunkCount = ChunkCount - chunkOf.Length;
    }

    /// <summary>Gets the compression format (<see cref="ZstdFormat"/>).</summary>
    public string Format { get; }

    /// <summary>Gets the length of the raw image, as it lands on the device.</summary>
    public long RawLength { get; }

    /// <summary>Gets the SHA-256 of the raw image, checked on the device before a deployment reports success.</summary>
    public ReadOnlySpan<byte> RawSha256 => _rawSha256;

    /// <summary>Gets the raw bytes of each chunk of the zero map (the last chunk may hold fewer).</summary>
    public int ChunkSize { get; }

    /// <summary>Gets the zstd level the frames were made with (a target re-encodes raw ranges with it to serve pieces).</summary>
    public int CompressionLevel { get; }

    /// <summary>Gets the length of the compressed file: the torrent's length.</summary>
    public long CompressedLength { get; }

    /// <summary>Gets the number of raw chunks, all-zero ones included.</summary>
    public int ChunkCount { get; }

    /// <summary>Gets the number of all-zero raw chunks, which are not in the compressed file.</summary>
    public int ZeroChunkCount { get; }

    /// <summary>Gets the raw length divided by the compressed length.</summary>
    public double Ratio => CompressedLength == 0 ? 0 : (double)RawLength / CompressedLength;

    internal int PieceLength { get; }

    internal int PieceCount => _dataStart.Length - 1;

    /// <summary>Gets the most raw bytes one piece may decode to: what a target's decoder and encoder hold at once per piece.</summary>
    /// <param name="pieceLength">The torrent's piece length.</param>
    internal static int MaxPieceRawLength(int pieceLength) => (int)Math.Min(Math.Max(4L * 1024 * 1024, 4L * pieceLength), 1024 * 1024 * 1024);

    /// <summary>Reads the layout of a compressed image from its manifest.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <returns>The layout, or <see langword="null"/> when the manifest describes a raw image or a stream (<see cref="StreamImage"/>).</returns>
    /// <exception cref="InvalidTorrentException">The manifest carries a layout that is malformed, of another version, or does not fit its pieces.</exception>
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

    /// <summary>
    /// Gets the compressed file as a device over a raw target that holds the image, to seed it after a deployment (or
    /// from any copy of the raw image): each piece read is re-encoded from its raw range, as the builder made it, so it
    /// hashes equal to the manifest's piece. A piece whose raw bytes are not the image's reads as zeros, which fail the
    /// piece check a seed makes the first time it reads a piece (<see cref="SeedOptions.VerifyOnFirstRead"/>), so it is
    /// never served. The device cannot be written; disposing it leaves the raw target open.
    /// </summary>
    /// <param name="raw">The raw target, at least <see cref="RawLength"/> bytes long.</param>
    /// <returns>A read-only device as long as the compressed file, for <see cref="BlockTorrentClient.SeedAsync"/>.</returns>
    /// <exception cref="ArgumentException">The target is shorter than the raw image.</exception>
    /// <example>
    /// <code>
    /// await using IBlockDevice file = layout.AsCompressedFile(target);
    /// await client.SeedAsync(manifest, file, new SeedOptions(), cancellationToken);
    /// </code>
    /// </example>
    public IBlockDevice AsCompressedFile(IBlockDevice raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        return new CompressedImageDevice(this, raw, readOnly: true);
    }

    /// <summary>Gets the raw offset of a chunk.</summary>
    internal long ChunkOffset(int chunk) => (long)chunk * ChunkSize;

    /// <summary>Gets the raw length of a chunk: <see cref="ChunkSize"/> for all but possibly the last.</summary>
    internal int ChunkLength(int chunk) => (int)Math.Min(ChunkSize, RawLength - ChunkOffset(chunk));

    /// <summary>Gets a value indicating whether a raw chunk is all zeros (and so not in the compressed file).</summary>
    internal bool IsZeroChunk(int chunk) => (_zeroChunks[chunk >> 3] & (0x80 >> (chunk & 7))) != 0;

    /// <summary>Gets the raw bytes a piece decodes to.</summary>
    internal int PieceRawLength(int piece) => (int)(_dataStart[piece + 1] - _dataStart[piece]);

    /// <summary>
    /// Gets the run of raw bytes, adjacent on the target, that starts <paramref name="within"/> bytes into a piece's
    /// decoded bytes: where it lands and how long it is (to the piece's end, a zero chunk, or <paramref name="max"/>).
    /// </summary>
    internal (long RawOffset, int Length) RunAt(int piece, int within, int max)
    {
        long data = _dataStart[piece] + within;
        int left = Math.Min(max, (int)(_dataStart[piece + 1] - data));
        int ordinal = (int)(data / ChunkSize);
        int into = (int)(data % ChunkSize);
        long rawOffset = ChunkOffset(_chunkOf[ordinal]) + into;
        int length = Math.Min(left, ChunkLength(_chunkOf[ordinal]) - into);
        while (length < left && ordinal + 1 < _chunkOf.Length && _chunkOf[ordinal + 1] == _chunkOf[ordinal] + 1)
        {
            ordinal++;
            length += Math.Min(left - length, ChunkLength(_chunkOf[ordinal]));
        }

        return (rawOffset, length);
    }

    /// <summary>Writes the info dictionary entry (key and value) of a layout, for <see cref="ManifestBuilder"/>.</summary>
    internal static byte[] EncodeInfoEntry(long rawLength, ReadOnlySpan<byte> rawSha256, int chunkSize, int level, ReadOnlySpan<int> rawPerPiece, ReadOnlySpan<byte> zeroChunks)
    {
        byte[] lengths = new byte[rawPerPiece.Length * sizeof(uint)];
        for (int i = 0; i < rawPerPiece.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(lengths.AsSpan(i * sizeof(uint)), (uint)rawPerPiece[i]);
        }

        var buffer = new ArrayBufferWriter<byte>(lengths.Length + zeroChunks.Length + 256);
        var writer = new BencodeWriter(buffer);
        writer.WriteString(ImageInfoEntry.InfoKey);

        // Keys in ascending byte order, as bencode's canonical form requires.
        writer.WriteStartDictionary();
        writer.WriteString("chunk size");
        writer.WriteInteger(chunkSize);
        writer.WriteString("compression");
        writer.WriteString(ZstdFormat);
        writer.WriteString("length");
        writer.WriteInteger(rawLength);
        writer.WriteString("level");
        writer.WriteInteger(level);
        writer.WriteString("pieces");
        writer.WriteString(lengths);
        writer.WriteString("sha256");
        writer.WriteString(rawSha256);
        writer.WriteString("version");
        writer.WriteInteger(LayoutVersion);
        writer.WriteString("zero chunks");
        writer.WriteString(zeroChunks);
        writer.WriteEnd();
        return buffer.WrittenSpan.ToArray();
    }

    private static CompressedImage FromEntry(ImageInfoEntry entry, TorrentManifest manifest)
    {
        if (entry.Version is null && entry.HasFrames)
        {
            throw ImageInfoEntry.Invalid($"it describes a compressed image of layout 1 (frames of a fixed size packed into pieces), which this version no longer reads; make the .btz and its manifest again with `blocktorrent create --compress zstd IMAGE` (layout {LayoutVersion}).");
        }

        if (entry.Version != LayoutVersion)
        {
            throw ImageInfoEntry.Invalid(string.Create(CultureInfo.InvariantCulture, $"the layout version is {entry.Version?.ToString(CultureInfo.InvariantCulture) ?? "missing"}; this library reads version {LayoutVersion}."));
        }

        string? format = entry.Compression;
        byte[]? lengths = entry.Pieces;
        byte[]? zeroChunks = entry.ZeroChunks;
        if (format != ZstdFormat)
        {
            throw ImageInfoEntry.Invalid($"the compression '{format}' is not one this library decodes (only '{ZstdFormat}').");
        }

        if (entry.ChunkSize is not { } c || c < MinChunkSize || c > MaxChunkSize || (c & (c - 1)) != 0)
        {
            throw ImageInfoEntry.Invalid($"the chunk size must be a power of two from {MinChunkSize} to {MaxChunkSize}.");
        }

        if (entry.Length is not { } raw || raw < 0 || (raw + c - 1) / c > int.MaxValue)
        {
            throw ImageInfoEntry.Invalid("the raw length is missing or out of range.");
        }

        if (entry.Level is not { } l || l < -131072 || l > 22)
        {
            throw ImageInfoEntry.Invalid("the zstd level is missing or out of range.");
        }

        byte[] sha256 = entry.RawSha256();
        int chunks = (int)((raw + c - 1) / c);
        if (zeroChunks is null || zeroChunks.Length != (chunks + 7) / 8 || (chunks % 8 != 0 && (zeroChunks[^1] & (0xFF >> (chunks % 8))) != 0))
        {
            throw ImageInfoEntry.Invalid(string.Create(CultureInfo.InvariantCulture, $"the zero-chunk map must be {(chunks + 7) / 8} bytes with no bits past chunk {chunks}."));
        }

        if (lengths is null || lengths.Length != manifest.PieceCount * sizeof(uint))
        {
            throw ImageInfoEntry.Invalid(string.Create(CultureInfo.InvariantCulture, $"the raw lengths must be {manifest.PieceCount} 4-byte numbers, one per piece."));
        }

        var chunkOf = new List<int>(chunks);
        long data = 0;
        for (int i = 0; i < chunks; i++)
        {
            if ((zeroChunks[i >> 3] & (0x80 >> (i & 7))) == 0)
            {
                chunkOf.Add(i);
                data += Math.Min(c, raw - ((long)i * c));
            }
        }

        int maxRaw = MaxPieceRawLength(manifest.PieceLength);
        long[] dataStart = new long[manifest.PieceCount + 1];
        for (int p = 0; p < manifest.PieceCount; p++)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(lengths.AsSpan(p * sizeof(uint)));
            if (length > maxRaw)
            {
                throw ImageInfoEntry.Invalid(string.Create(CultureInfo.InvariantCulture, $"piece {p} decodes to {length} raw bytes; pieces of {manifest.PieceLength} bytes decode to at most {maxRaw}."));
            }

            dataStart[p + 1] = dataStart[p] + length;
        }

        if (dataStart[^1] != data)
        {
            throw ImageInfoEntry.Invalid(string.Create(CultureInfo.InvariantCulture, $"the pieces decode to {dataStart[^1]} raw bytes, but the image has {data} in chunks that are not all zeros."));
        }

        return new CompressedImage(format, raw, sha256, (int)c, (int)l, manifest.Length, manifest.PieceLength, zeroChunks, dataStart, [.. chunkOf]);
    }
}

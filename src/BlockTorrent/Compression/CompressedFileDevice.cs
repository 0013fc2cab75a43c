using System.Globalization;
using BlockTorrent.Devices;

namespace BlockTorrent.Compression;

/// <summary>
/// What the devices of both kinds of compressed image share: the torrent's file (the compressed bytes, in whole pieces)
/// as a device over the raw target, with the target's geometry. Reads and writes are cut into whole pieces for the
/// derived device; discards are refused, and the raw image's SHA-256 is checked on the target at the end.
/// </summary>
internal abstract class CompressedFileDevice : IBlockDevice
{
    private readonly long _rawLength;
    private readonly byte[] _rawSha256;
    private readonly string _kind;

    /// <summary>Initializes a new instance over a raw target, which is not disposed with it.</summary>
    /// <param name="raw">The raw target.</param>
    /// <param name="rawLength">The raw image's length.</param>
    /// <param name="rawSha256">The raw image's SHA-256.</param>
    /// <param name="length">The compressed file's length: the torrent's.</param>
    /// <param name="pieceLength">The torrent's piece length.</param>
    /// <param name="kind">What the file is, for messages: "compressed image", "compressed stream".</param>
    /// <exception cref="ArgumentException">The target is shorter than the raw image.</exception>
    protected CompressedFileDevice(IBlockDevice raw, long rawLength, ReadOnlySpan<byte> rawSha256, long length, int pieceLength, string kind)
    {
        ArgumentNullException.ThrowIfNull(raw);
        RawImageHash.CheckLength(raw, rawLength, nameof(raw));
        Raw = raw;
        _rawLength = rawLength;
        _rawSha256 = rawSha256.ToArray();
        Length = length;
        PieceLength = pieceLength;
        _kind = kind;
    }

    public string Name => Raw.Name;

    public long Length { get; }

    public int LogicalSectorSize => Raw.LogicalSectorSize;

    public int PhysicalSectorSize => Raw.PhysicalSectorSize;

    public int MemoryAlignment => Raw.MemoryAlignment;

    public virtual bool IsReadOnly => Raw.IsReadOnly;

    public bool CanDiscard => false;

    public virtual bool CanZeroRange => false;

    public bool DiscardZeroesData => false;

    /// <summary>Gets the raw target.</summary>
    protected IBlockDevice Raw { get; }

    /// <summary>Gets the torrent's piece length.</summary>
    protected int PieceLength { get; }

    /// <summary>Hashes the raw image on the target and compares it with the manifest's raw SHA-256.</summary>
    /// <param name="cancellationToken">Cancels between reads.</param>
    /// <returns>A task that completes when the raw image matches.</returns>
    /// <exception cref="InvalidDataException">The raw bytes on the target are not the image.</exception>
    public async Task VerifyRawAsync(CancellationToken cancellationToken)
    {
        if (!await RawImageHash.MatchesAsync(Raw, _rawLength, _rawSha256, cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The raw image on '{Raw.Name}' ({_rawLength} bytes) does not hash to the manifest's raw SHA-256 {Convert.ToHexStringLower(_rawSha256)}."));
        }
    }

    public ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        CheckRange(offset, buffer.Length);
        return WholePieces.ReadAsync(offset, buffer, Length, PieceLength, ReadPieceAsync, cancellationToken);
    }

    public ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        WriteGatherAsync(offset, [data], cancellationToken);

    public async ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        long total = 0;
        for (int i = 0; i < buffers.Count; i++)
        {
            total += buffers[i].Length;
        }

        CheckRange(offset, total);
        var writes = new List<Task>();
        for (int i = 0; i < buffers.Count; i++)
        {
            ReadOnlyMemory<byte> data = buffers[i];
            while (!data.IsEmpty)
            {
                int piece = (int)(offset / PieceLength);
                int size = PieceSize(piece);
                if (offset != (long)piece * PieceLength || data.Length < size)
                {
                    throw new NotSupportedException(string.Create(CultureInfo.InvariantCulture, $"A {_kind} is written in whole pieces; {data.Length} bytes at {offset} are not."));
                }

                writes.Add(WritePieceAsync(piece, data[..size], cancellationToken));
                data = data[size..];
                offset += size;
            }
        }

        await Task.WhenAll(writes).ConfigureAwait(false);
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => Raw.FlushAsync(cancellationToken);

    public ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"A {_kind}'s pieces cannot be discarded.");

    public virtual ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException($"A {_kind}'s pieces cannot be zeroed.");

    public abstract ValueTask DisposeAsync();

    /// <summary>Fills <paramref name="destination"/>, of the piece's size, with a whole piece.</summary>
    protected abstract Task ReadPieceAsync(int piece, Memory<byte> destination, CancellationToken cancellationToken);

    /// <summary>Takes a whole verified piece; the writes of one gather run at once, and the gather completes when all have.</summary>
    protected abstract Task WritePieceAsync(int piece, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Gets a piece's size: the piece length for all but possibly the last.</summary>
    protected int PieceSize(int piece) => (int)Math.Min(PieceLength, Length - ((long)piece * PieceLength));

    /// <summary>Refuses a range outside the compressed file.</summary>
    protected void CheckRange(long offset, long length)
    {
        if (offset < 0 || length < 0 || offset > Length - length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset), offset, string.Create(CultureInfo.InvariantCulture, $"{length} bytes at {offset} reach outside the {_kind} ({Length} bytes)."));
        }
    }
}

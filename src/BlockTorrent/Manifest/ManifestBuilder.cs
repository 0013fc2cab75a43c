using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Threading.Channels;
using BlockTorrent.Bencode;
using BlockTorrent.Devices;

namespace BlockTorrent.Manifest;

/// <summary>
/// Makes a standard .torrent (v1, v2 or hybrid) of an image, hashing on all cores while reading the source in large
/// sequential chunks.
/// </summary>
/// <remarks>
/// One reader fills chunk buffers in order; every piece of a filled chunk becomes a work item for the hashing
/// workers, and a chunk's buffer is reused as soon as its last piece is hashed. At most four chunks exist, so memory
/// stays bounded whatever the image size, and the reader runs ahead of the hashers by up to three chunks.
/// </remarks>
public static class ManifestBuilder
{
    private const int ChunkBuffers = 4;
    private const long TwoGiB = 2L * 1024 * 1024 * 1024;
    private const int FourMiB = 4 * 1024 * 1024;

    /// <summary>
    /// Chooses a piece length for an image: 4 MiB from 2 GiB up to 256 GiB (large writes, small metadata), doubling
    /// beyond that to keep about 65536 pieces (at most 16 MiB); below 2 GiB, the largest power of two that still
    /// gives at least 128 pieces, but never less than 16 KiB.
    /// </summary>
    /// <param name="imageLength">The image length in bytes.</param>
    /// <returns>The piece length in bytes.</returns>
    public static int ChoosePieceLength(long imageLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageLength);
        if (imageLength >= TwoGiB)
        {
            long length = FourMiB;
            while (length < 16 * 1024 * 1024 && imageLength / length > 65536)
            {
                length *= 2;
            }

            return (int)length;
        }

        long target = imageLength / 128;
        long pieceLength = target < TorrentInfo.MinPieceLength ? TorrentInfo.MinPieceLength : (long)BitOperations.RoundUpToPowerOf2((ulong)target + 1) / 2;
        return (int)Math.Clamp(pieceLength, TorrentInfo.MinPieceLength, FourMiB);
    }

    /// <summary>Makes a .torrent of everything on a device.</summary>
    /// <param name="source">The device holding the image (read from offset 0 to its length).</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="ArgumentException">The options are invalid or the device is empty.</exception>
    public static Task<TorrentManifest> CreateAsync(IBlockDevice source, ManifestBuilderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        return BuildAsync(
            options?.Name ?? DefaultName(source.Name),
            source.Length,
            (offset, buffer, token) => source.ReadAsync(offset, buffer, token),
            options ?? ManifestBuilderOptions.Default,
            cancellationToken);
    }

    /// <summary>Makes a .torrent of an image file, opened read-only as a <see cref="FileBlockDevice"/>.</summary>
    /// <param name="path">The image file.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="ArgumentException">The options are invalid or the file is empty.</exception>
    public static async Task<TorrentManifest> CreateAsync(string path, ManifestBuilderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileBlockDevice device = FileBlockDevice.Open(path, new FileBlockDeviceOptions { ReadOnly = true });
        await using ConfiguredAsyncDisposable disposal = device.ConfigureAwait(false);
        return await BuildAsync(
            options?.Name ?? DefaultName(path),
            device.Length,
            (offset, buffer, token) => device.ReadAsync(offset, buffer, token),
            options ?? ManifestBuilderOptions.Default,
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Makes a .torrent of an image held in memory (tests, small images).</summary>
    internal static Task<TorrentManifest> CreateAsync(ReadOnlyMemory<byte> image, string name, ManifestBuilderOptions? options = null, CancellationToken cancellationToken = default)
        => BuildAsync(
            name,
            image.Length,
            (offset, buffer, token) =>
            {
                int count = (int)Math.Min(buffer.Length, image.Length - offset);
                image.Slice((int)offset, count).CopyTo(buffer);
                return ValueTask.FromResult(count);
            },
            options ?? ManifestBuilderOptions.Default,
            cancellationToken);

    private static string DefaultName(string sourceName)
    {
        string name = Path.GetFileName(sourceName.TrimEnd('/', '\\'));
        return string.IsNullOrEmpty(name) ? "image" : name;
    }

    private static async Task<TorrentManifest> BuildAsync(
        string name,
        long length,
        Func<long, Memory<byte>, CancellationToken, ValueTask<int>> read,
        ManifestBuilderOptions options,
        CancellationToken cancellationToken)
    {
        options.Validate();
        if (length <= 0)
        {
            throw new ArgumentException($"The image '{name}' is empty; there is nothing to make a torrent of.", nameof(length));
        }

        int pieceLength = options.PieceLength == 0 ? ChoosePieceLength(length) : options.PieceLength;
        long pieceCountLong = (length + pieceLength - 1) / pieceLength;
        if (pieceCountLong > int.MaxValue / MerkleTree.HashSize)
        {
            throw new ArgumentException($"A {length}-byte image in pieces of {pieceLength} has too many pieces; choose a larger PieceLength.", nameof(options));
        }

        int pieceCount = (int)pieceCountLong;
        bool v1 = options.Versions.HasFlag(TorrentVersions.V1);
        bool v2 = options.Versions.HasFlag(TorrentVersions.V2);
        var hashes = new PieceHashes
        {
            V1 = v1 ? new byte[pieceCount * SHA1.HashSizeInBytes] : null,
            V2 = v2 ? new byte[pieceCount * MerkleTree.HashSize] : null,
            LeavesPerPiece = pieceCount == 1
                ? (int)MerkleTree.RoundUpToPowerOfTwo(MerkleTree.BlockCount(length))
                : pieceLength / MerkleTree.BlockSize,
        };

        await HashAllAsync(length, pieceLength, read, hashes, options, cancellationToken).ConfigureAwait(false);

        byte[]? piecesRoot = null;
        if (v2)
        {
            piecesRoot = new byte[MerkleTree.HashSize];
            if (pieceCount == 1)
            {
                hashes.V2.AsSpan(0, MerkleTree.HashSize).CopyTo(piecesRoot);
            }
            else
            {
                byte[] work = (byte[])hashes.V2!.Clone();
                MerkleTree.ReduceLayer(work, pieceCount, MerkleTree.RoundUpToPowerOfTwo(pieceCount), BitOperations.Log2((uint)hashes.LeavesPerPiece), piecesRoot);
            }
        }

        byte[] info = EncodeInfo(name, length, pieceLength, options.IsPrivate, hashes.V1, piecesRoot);
        var metadata = new TorrentMetadata
        {
            TrackerTiers = [.. options.Trackers.Select(t => (IReadOnlyList<string>)[t])],
            WebSeeds = [.. options.WebSeeds],
            Comment = options.Comment,
            CreatedBy = options.CreatedBy,
            CreationDate = options.CreationDate,
        };
        return TorrentManifest.Create(info, v2 && pieceCount > 1 ? hashes.V2 : default, metadata);
    }

    private static async Task HashAllAsync(
        long length,
        int pieceLength,
        Func<long, Memory<byte>, CancellationToken, ValueTask<int>> read,
        PieceHashes hashes,
        ManifestBuilderOptions options,
        CancellationToken cancellationToken)
    {
        int workers = options.MaxDegreeOfParallelism == 0 ? Environment.ProcessorCount : options.MaxDegreeOfParallelism;
        long chunkPieces = Math.Max(1, (options.ReadChunkSize + (long)pieceLength - 1) / pieceLength);
        int chunkSize = (int)Math.Min(chunkPieces * pieceLength, RoundUp(length, pieceLength));
        var free = Channel.CreateBounded<byte[]>(ChunkBuffers);
        var work = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleWriter = true });
        var buffers = new List<byte[]>(ChunkBuffers);
        for (int i = 0; i < ChunkBuffers; i++)
        {
            byte[] buffer = ArrayPool<byte>.Shared.Rent(chunkSize);
            buffers.Add(buffer);
            free.Writer.TryWrite(buffer);
        }

        using var failure = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        CancellationToken token = failure.Token;
        long hashed = 0;
        var tasks = new List<Task>(workers + 1)
        {
            Task.Run(
                async () =>
                {
                    try
                    {
                        int piece = 0;
                        for (long offset = 0; offset < length; offset += chunkSize)
                        {
                            byte[] buffer = await free.Reader.ReadAsync(token).ConfigureAwait(false);
                            int count = (int)Math.Min(chunkSize, length - offset);
                            await ReadExactlyAsync(read, offset, buffer.AsMemory(0, count), token).ConfigureAwait(false);
                            int pieces = (count + pieceLength - 1) / pieceLength;
                            var chunk = new Chunk(buffer, pieces);
                            for (int p = 0; p < pieces; p++, piece++)
                            {
                                int start = p * pieceLength;
                                work.Writer.TryWrite(new WorkItem(chunk, piece, start, Math.Min(pieceLength, count - start)));
                            }
                        }

                        work.Writer.TryComplete();
                    }
                    catch (Exception e)
                    {
                        work.Writer.TryComplete(e);
                        throw;
                    }
                },
                token),
        };

        for (int w = 0; w < workers; w++)
        {
            tasks.Add(Task.Run(
                async () =>
                {
                    await foreach (WorkItem item in work.Reader.ReadAllAsync(token).ConfigureAwait(false))
                    {
                        HashPiece(item.Chunk.Buffer.AsSpan(item.Start, item.Length), item.Piece, hashes);
                        long total = Interlocked.Add(ref hashed, item.Length);
                        if (Interlocked.Decrement(ref item.Chunk.Remaining) == 0)
                        {
                            free.Writer.TryWrite(item.Chunk.Buffer);
                            options.Progress?.Report(new ManifestBuildProgress(total, length));
                        }
                    }
                },
                token));
        }

        try
        {
            await WhenAllOrFirstFailure(tasks, failure).ConfigureAwait(false);
        }
        finally
        {
            foreach (byte[] buffer in buffers)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        options.Progress?.Report(new ManifestBuildProgress(length, length));
    }

    // Cancels the others as soon as one task fails, so a read error does not leave hashers waiting forever.
    private static async Task WhenAllOrFirstFailure(List<Task> tasks, CancellationTokenSource failure)
    {
        var pending = new List<Task>(tasks);
        while (pending.Count > 0)
        {
            Task done = await Task.WhenAny(pending).ConfigureAwait(false);
            pending.Remove(done);
            if (done.IsFaulted || done.IsCanceled)
            {
                await failure.CancelAsync().ConfigureAwait(false);
                try
                {
                    await Task.WhenAll(pending).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // The others stop because we cancelled them; the first failure is what matters.
                }

                await done.ConfigureAwait(false);
            }
        }
    }

    internal static void HashPiece(ReadOnlySpan<byte> data, int piece, PieceHashes hashes)
    {
        if (hashes.V1 is not null)
        {
            SHA1.HashData(data, hashes.V1.AsSpan(piece * SHA1.HashSizeInBytes, SHA1.HashSizeInBytes));
        }

        if (hashes.V2 is not null)
        {
            MerkleTree.ComputeRoot(data, hashes.LeavesPerPiece, hashes.V2.AsSpan(piece * MerkleTree.HashSize, MerkleTree.HashSize));
        }
    }

    private static async ValueTask ReadExactlyAsync(Func<long, Memory<byte>, CancellationToken, ValueTask<int>> read, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            int n = await read(offset, buffer, cancellationToken).ConfigureAwait(false);
            if (n <= 0)
            {
                throw new IOException($"The source ended at offset {offset}, before the image length it reported.");
            }

            offset += n;
            buffer = buffer[n..];
        }
    }

    private static long RoundUp(long value, int multiple) => (value + multiple - 1) / multiple * multiple;

    private static byte[] EncodeInfo(string name, long length, int pieceLength, bool isPrivate, byte[]? v1Pieces, byte[]? piecesRoot)
    {
        var buffer = new ArrayBufferWriter<byte>((v1Pieces?.Length ?? 0) + 256);
        var writer = new BencodeWriter(buffer);

        // Keys in ascending byte order, as BEP 3 requires.
        writer.WriteStartDictionary();
        if (piecesRoot is not null)
        {
            writer.WriteString("file tree");
            writer.WriteStartDictionary();
            writer.WriteString(name);
            writer.WriteStartDictionary();
            writer.WriteString(ReadOnlySpan<byte>.Empty);
            writer.WriteStartDictionary();
            writer.WriteString("length");
            writer.WriteInteger(length);
            writer.WriteString("pieces root");
            writer.WriteString(piecesRoot);
            writer.WriteEnd();
            writer.WriteEnd();
            writer.WriteEnd();
        }

        if (v1Pieces is not null)
        {
            writer.WriteString("length");
            writer.WriteInteger(length);
        }

        if (piecesRoot is not null)
        {
            writer.WriteString("meta version");
            writer.WriteInteger(2);
        }

        writer.WriteString("name");
        writer.WriteString(name);
        writer.WriteString("piece length");
        writer.WriteInteger(pieceLength);
        if (v1Pieces is not null)
        {
            writer.WriteString("pieces");
            writer.WriteString(v1Pieces);
        }

        if (isPrivate)
        {
            writer.WriteString("private");
            writer.WriteInteger(1);
        }

        writer.WriteEnd();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Where the workers put each piece's hashes (disjoint slices, so no locking).</summary>
    internal sealed class PieceHashes
    {
        public byte[]? V1 { get; init; }

        public byte[]? V2 { get; init; }

        public int LeavesPerPiece { get; init; }
    }

    private sealed class Chunk(byte[] buffer, int pieces)
    {
        public byte[] Buffer { get; } = buffer;

        public int Remaining = pieces;
    }

    private readonly record struct WorkItem(Chunk Chunk, int Piece, int Start, int Length);
}

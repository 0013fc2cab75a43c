using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Threading.Channels;
using BlockTorrent.Bencode;
using BlockTorrent.Buffers;
using BlockTorrent.Devices;
using Microsoft.Win32.SafeHandles;

namespace BlockTorrent.Manifest;

/// <summary>
/// Makes a standard .torrent (v1, v2 or hybrid) of an image, hashing on all cores while reading the source in large
/// sequential chunks.
/// </summary>
/// <remarks>
/// <para>
/// An image file is read with positional reads by one worker per core: each claims pieces in order and reads a piece
/// in 1 MiB chunks into its own buffer, hashed while the chunk is still in the core's cache, with the kernel asked to
/// read ahead of the workers. (A memory map would save the copy, but a file truncated underneath kills the process
/// with SIGBUS; a read comes back short, and the build fails with an <see cref="IOException"/> naming the file.) Any
/// other source (an <see cref="IBlockDevice"/>) is read by one reader into aligned chunk buffers while the workers
/// hash the pieces of earlier chunks; a chunk's buffer is reused as soon as its last piece is hashed. At most four
/// chunks exist, so memory stays bounded whatever the image size.
/// </para>
/// <para>
/// Every worker hashes with its own reusable SHA-1/SHA-256 state and allocates nothing per piece or leaf; a hybrid
/// torrent's SHA-1 and merkle leaves are computed in one pass over each 16 KiB block while it is in the cache.
/// </para>
/// </remarks>
public static class ManifestBuilder
{
    private const int ChunkBuffers = 4;
    private const int OneMiB = 1024 * 1024;
    private const int SixteenMiB = 16 * 1024 * 1024;
    private const long MaxChosenPieces = 512 * 1024;

    // How many read-ahead windows (of ReadChunkSize) the kernel is asked to read ahead of the hashers of an image file.
    private const int PrefetchWindows = 4;

    /// <summary>
    /// Chooses a piece length for an image: 1 MiB up to 512 GiB (at most 524,288 pieces), doubling beyond that to
    /// keep at most that many (at most 16 MiB); below 128 MiB, the largest power of two that still gives at least 128
    /// pieces, but never less than 16 KiB.
    /// </summary>
    /// <remarks>
    /// Smaller pieces reach the swarm sooner (a target passes a piece on only once it holds all of it) and find more
    /// of an image's zero runs; larger ones make a smaller manifest. 1 MiB keeps the info dictionary of the largest
    /// image it is chosen for near 10 MiB, under <see cref="DeployOptions.MaxMetadataSize"/>, and its parse well under a
    /// second (benchmarks/README.md, "Piece size").
    /// </remarks>
    /// <param name="imageLength">The image length in bytes.</param>
    /// <returns>The piece length in bytes.</returns>
    public static int ChoosePieceLength(long imageLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(imageLength);
        long target = imageLength / 128;
        long length = target < TorrentInfo.MinPieceLength ? TorrentInfo.MinPieceLength : (long)BitOperations.RoundUpToPowerOf2((ulong)target + 1) / 2;
        length = Math.Clamp(length, TorrentInfo.MinPieceLength, OneMiB);
        while (length < SixteenMiB && (imageLength + length - 1) / length > MaxChosenPieces)
        {
            length *= 2;
        }

        return (int)length;
    }

    /// <summary>Makes a .torrent of everything on a device.</summary>
    /// <param name="source">The device holding the image (read from offset 0 to its length).</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="ArgumentException">The options are invalid or the device is empty.</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The overloads differ in the type of a required parameter, so no call is ambiguous.")]
    public static Task<TorrentManifest> CreateAsync(IBlockDevice source, ManifestBuilderOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        return BuildAsync(
            options?.Name ?? DefaultName(source.Name),
            source.Length,
            (offset, buffer, token) => source.ReadAsync(offset, buffer, token),
            options ?? ManifestBuilderOptions.Default,
            pieceLength: 0,
            infoEntry: default,
            cancellationToken);
    }

    /// <summary>
    /// Makes a .torrent of an image file. A regular file is hashed by all cores with positional reads (the kernel is
    /// asked to read ahead of the hashers); anything else is read as a <see cref="FileBlockDevice"/>.
    /// </summary>
    /// <param name="path">The image file.</param>
    /// <param name="options">The options, or <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="ArgumentException">The options are invalid or the file is empty.</exception>
    /// <exception cref="IOException">The file cannot be read, or shrank while it was hashed (the message names it).</exception>
    [SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "The overloads differ in the type of a required parameter, so no call is ambiguous.")]
    public static Task<TorrentManifest> CreateAsync(string path, ManifestBuilderOptions? options = null, CancellationToken cancellationToken = default) =>
        CreateAsync(path, options, pieceLength: 0, infoEntry: default, cancellationToken);

    /// <summary>
    /// Makes a .torrent of an image file with a given piece length (0: the options', else chosen) and one more entry
    /// (key and value, encoded; its key sorts before <c>file tree</c>) in the info dictionary.
    /// </summary>
    internal static async Task<TorrentManifest> CreateAsync(string path, ManifestBuilderOptions? options, int pieceLength, ReadOnlyMemory<byte> infoEntry, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= ManifestBuilderOptions.Default;
        string name = options.Name ?? DefaultName(path);
        if (new FileInfo(path) is { Exists: true, Length: > 0 } info && (info.Attributes & (FileAttributes.Device | FileAttributes.Directory)) == 0)
        {
            using SafeFileHandle file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            long length = RandomAccess.GetLength(file);
            if (length > 0)
            {
                return await BuildAsync(name, length, (pieces, hashes, token) => HashFileAsync(file, path, length, pieces, hashes, options, token), options, pieceLength, infoEntry, cancellationToken).ConfigureAwait(false);
            }
        }

        FileBlockDevice device = FileBlockDevice.Open(path, new FileBlockDeviceOptions { ReadOnly = true });
        await using ConfiguredAsyncDisposable disposal = device.ConfigureAwait(false);
        return await BuildAsync(
            name,
            device.Length,
            (offset, buffer, token) => device.ReadAsync(offset, buffer, token),
            options,
            pieceLength,
            infoEntry,
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
            pieceLength: 0,
            infoEntry: default,
            cancellationToken);

    private static string DefaultName(string sourceName)
    {
        string name = Path.GetFileName(sourceName.TrimEnd('/', '\\'));
        return string.IsNullOrEmpty(name) ? "image" : name;
    }

    private static Task<TorrentManifest> BuildAsync(
        string name,
        long length,
        Func<long, Memory<byte>, CancellationToken, ValueTask<int>> read,
        ManifestBuilderOptions options,
        int pieceLength,
        ReadOnlyMemory<byte> infoEntry,
        CancellationToken cancellationToken)
        => BuildAsync(name, length, (pieces, hashes, token) => HashFromReadsAsync(length, pieces, read, hashes, options, token), options, pieceLength, infoEntry, cancellationToken);

    private static async Task<TorrentManifest> BuildAsync(
        string name,
        long length,
        Func<int, PieceHashes, CancellationToken, Task> hashAll,
        ManifestBuilderOptions options,
        int pieceLength,
        ReadOnlyMemory<byte> infoEntry,
        CancellationToken cancellationToken)
    {
        options.Validate();
        if (length <= 0)
        {
            throw new ArgumentException($"The image '{name}' is empty; there is nothing to make a torrent of.", nameof(length));
        }

        if (pieceLength == 0)
        {
            pieceLength = options.PieceLength == 0 ? ChoosePieceLength(length) : options.PieceLength;
        }
        long pieceCountLong = (length + pieceLength - 1) / pieceLength;
        if (pieceCountLong > int.MaxValue / MerkleTree.HashSize)
        {
            throw new ArgumentException($"A {length}-byte image in pieces of {pieceLength} has too many pieces; choose a larger PieceLength.", nameof(options));
        }

        int pieceCount = (int)pieceCountLong;
        bool v1 = options.Versions.HasFlag(TorrentVersions.V1);
        bool v2 = options.Versions.HasFlag(TorrentVersions.V2);
        int leavesPerPiece = pieceCount == 1
            ? (int)MerkleTree.RoundUpToPowerOfTwo(MerkleTree.BlockCount(length))
            : pieceLength / MerkleTree.BlockSize;
        // A one-piece image has no full-size piece (and its tree is only as wide as its data needs).
        int lastSize = (int)(length - ((long)(pieceCount - 1) * pieceLength));
        int fullSize = pieceCount == 1 ? lastSize : pieceLength;
        var hashes = new PieceHashes
        {
            V1 = v1 ? new byte[pieceCount * SHA1.HashSizeInBytes] : null,
            V2 = v2 ? new byte[pieceCount * MerkleTree.HashSize] : null,
            LeavesPerPiece = leavesPerPiece,
            PieceCount = pieceCount,
            ZeroV1 = v1 ? ZeroPieceHashes.Sha1(fullSize) : null,
            ZeroV2 = v2 ? ZeroPieceHashes.Root(fullSize, leavesPerPiece) : null,
            LastZeroV1 = v1 ? ZeroPieceHashes.Sha1(lastSize) : null,
            LastZeroV2 = v2 ? ZeroPieceHashes.Root(lastSize, leavesPerPiece) : null,
            BlocksPerPiece = pieceLength / MerkleTree.BlockSize,
            ZeroBlocks = v2 && length / MerkleTree.BlockSize < uint.MaxValue ? new ulong[((length / MerkleTree.BlockSize) + 63) / 64] : null,
            BlockKeys = v2 && length / MerkleTree.BlockSize < uint.MaxValue ? new ulong[]?[pieceCount] : null,
        };

        await hashAll(pieceLength, hashes, cancellationToken).ConfigureAwait(false);
        options.Progress?.Report(new ManifestBuildProgress(length, length));

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

        byte[] info = EncodeInfo(name, length, pieceLength, options.IsPrivate, options.SwarmAuthority, hashes.V1, piecesRoot, infoEntry.Span);
        var metadata = new TorrentMetadata
        {
            TrackerTiers = [.. options.Trackers.Select(t => (IReadOnlyList<string>)[t])],
            WebSeeds = [.. options.WebSeeds],
            Comment = options.Comment,
            CreatedBy = options.CreatedBy,
            CreationDate = options.CreationDate,
        };
        TorrentManifest manifest = WithBlockMap(TorrentManifest.Create(info, v2 && pieceCount > 1 ? hashes.V2 : default, metadata), hashes);
        return options.SigningKey is { } key ? manifest.WithSignature(key) : manifest;
    }

    // Hashes an image file with positional reads: workers (one per core, on their own threads) claim pieces in order
    // from a shared counter and read each in chunks small enough to stay in the core's cache while they are hashed.
    // Whoever claims the first piece of a read-ahead window asks the kernel to start reading the window's data
    // PrefetchWindows ahead, so a cold file streams from the disk while the hashers work on what has arrived.
    // A piece wholly in a hole of a sparse file is neither read nor hashed, and one whose bytes turn out to be zeros
    // is read but not hashed: both get the known hashes of a zero piece, so the time follows the data.
    // Why not a memory map (no copy): a mapped page past the end of a file that shrinks underneath raises SIGBUS,
    // which kills the process; a read just comes back short, and the file is named in the error.
    private static async Task HashFileAsync(SafeFileHandle file, string path, long length, int pieceLength, PieceHashes hashes, ManifestBuilderOptions options, CancellationToken cancellationToken)
    {
        using var failure = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var state = new FileState(file, path, length, pieceLength, hashes, options, (int)Math.Max(1, options.ReadChunkSize / pieceLength), failure.Token);
        state.Prefetch(0, PrefetchWindows);
        int workers = options.MaxDegreeOfParallelism == 0 ? Environment.ProcessorCount : options.MaxDegreeOfParallelism;
        var tasks = new List<Task>(workers);
        for (int w = 0; w < workers; w++)
        {
            tasks.Add(Task.Factory.StartNew(static s => ((FileState)s!).Run(), state, failure.Token, TaskCreationOptions.LongRunning, TaskScheduler.Default));
        }

        await WhenAllOrFirstFailure(tasks, failure).ConfigureAwait(false);

        // Holes past a cut read as "no data" rather than failing a read, so a file that shrank is caught here.
        if (RandomAccess.GetLength(file) < length)
        {
            throw Shrank(path, RandomAccess.GetLength(file), length);
        }
    }

    private static IOException Shrank(string path, long offset, long length)
        => new($"The image file '{path}' shrank while it was hashed: it ends before offset {offset}, but was {length} bytes when hashing started.");

    // Reads the source in large sequential chunks into aligned buffers (O_DIRECT devices read them without a bounce
    // copy) while workers hash the pieces of earlier chunks; a chunk's buffer is reused once its last piece is hashed.
    private static async Task HashFromReadsAsync(
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
        var free = Channel.CreateBounded<AlignedBuffer>(ChunkBuffers);
        var work = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleWriter = true });
        var buffers = new List<AlignedBuffer>(ChunkBuffers);
        try
        {
            for (int i = 0; i < ChunkBuffers; i++)
            {
                var buffer = new AlignedBuffer(chunkSize);
                buffers.Add(buffer);
                free.Writer.TryWrite(buffer);
            }

            using var failure = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            CancellationToken token = failure.Token;
            var progress = new ProgressCounter(length, chunkSize, options.Progress);
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
                                AlignedBuffer buffer = await free.Reader.ReadAsync(token).ConfigureAwait(false);
                                int count = (int)Math.Min(chunkSize, length - offset);
                                await ReadExactlyAsync(read, offset, buffer.Memory[..count], token).ConfigureAwait(false);
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
                            HashPiece(item.Chunk.Buffer.Memory.Span.Slice(item.Start, item.Length), item.Piece, hashes, PieceHasher.ForCurrentThread);
                            progress.Add(item.Length);
                            if (Interlocked.Decrement(ref item.Chunk.Remaining) == 0)
                            {
                                free.Writer.TryWrite(item.Chunk.Buffer);
                            }
                        }
                    },
                    token));
            }

            await WhenAllOrFirstFailure(tasks, failure).ConfigureAwait(false);
        }
        finally
        {
            // Every task has stopped (WhenAllOrFirstFailure waits for all), so no read or hash touches the buffers.
            foreach (AlignedBuffer buffer in buffers)
            {
                ((IDisposable)buffer).Dispose();
            }
        }
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

    /// <summary>
    /// Hashes one piece into its slots: SHA-1 and the merkle root in one pass for a hybrid torrent. An all-zero piece
    /// (found by a vectorised scan that stops at the first non-zero byte) gets the known hashes of zeros instead.
    /// </summary>
    internal static void HashPiece(ReadOnlySpan<byte> data, int piece, PieceHashes hashes, PieceHasher hasher)
    {
        if (!data.ContainsAnyExcept((byte)0))
        {
            hashes.SetZero(piece);
            return;
        }

        hasher.Start(sha1: hashes.V1 is not null, root: hashes.V2 is not null);
        hasher.Append(data);
        hashes.RecordBlocks(piece, hasher);
        hasher.Finish(
            hashes.LeavesPerPiece,
            hashes.V2 is null ? default : hashes.V2.AsSpan(piece * MerkleTree.HashSize, MerkleTree.HashSize),
            hashes.V1 is null ? default : hashes.V1.AsSpan(piece * SHA1.HashSizeInBytes, SHA1.HashSizeInBytes));
    }

    /// <summary>
    /// Adds the map of zero and repeated blocks inside the pieces that travel (neither all-zero nor a later copy of
    /// a duplicate piece): each block whose leaf is the zero block's, and each whose leaf key an earlier block of
    /// such a piece has, pointing at that first block. Without recorded keys (v1 only, or more data than
    /// <see cref="PieceHashes.MaxKeyedBlocks"/>), zero blocks only, or no map.
    /// </summary>
    private static TorrentManifest WithBlockMap(TorrentManifest manifest, PieceHashes hashes)
    {
        if (hashes.ZeroBlocks is null)
        {
            return manifest;
        }

        long fullBlocks = manifest.Length / BlockMap.BlockSize;
        int perPiece = hashes.BlocksPerPiece;
        Dictionary<ulong, long>? first = hashes.KeysDropped ? null : [];
        var builder = new BlockMap.Builder();
        for (int piece = 0; piece < manifest.PieceCount; piece++)
        {
            if (manifest.IsZeroPiece(piece) || manifest.GetCanonicalPiece(piece) != piece)
            {
                continue;
            }

            long start = (long)piece * perPiece;
            long end = Math.Min(start + perPiece, fullBlocks);
            ulong[]? keys = first is null ? null : hashes.BlockKeys![piece];
            for (long block = start; block < end; block++)
            {
                if (hashes.IsZeroBlock(block))
                {
                    builder.Add(block, BlockMap.Zero);
                }
                else if (keys is not null && !first!.TryAdd(keys[block - start], block))
                {
                    builder.Add(block, first[keys[block - start]]);
                }
            }
        }

        return builder.IsEmpty ? manifest : manifest.WithBlocks(builder.Build());
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

    private static byte[] EncodeInfo(string name, long length, int pieceLength, bool isPrivate, X509Certificate2? swarmAuthority, byte[]? v1Pieces, byte[]? piecesRoot, ReadOnlySpan<byte> firstEntry)
    {
        var buffer = new ArrayBufferWriter<byte>((v1Pieces?.Length ?? 0) + firstEntry.Length + 256);
        var writer = new BencodeWriter(buffer);

        // Keys in ascending byte order, as BEP 3 requires.
        writer.WriteStartDictionary();
        writer.WriteRaw(firstEntry);
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

        if (swarmAuthority is not null)
        {
            writer.WriteString("ssl-cert");
            writer.WriteString(swarmAuthority.ExportCertificatePem());
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

        public int PieceCount { get; init; }

        // The hashes of an all-zero piece of full size and of the last piece's size, for the hashes asked for.
        public byte[]? ZeroV1 { get; init; }

        public byte[]? ZeroV2 { get; init; }

        public byte[]? LastZeroV1 { get; init; }

        public byte[]? LastZeroV2 { get; init; }

        /// <summary>The most blocks whose keys are kept for finding repeated blocks (64 GiB of data, 32 MiB of keys).</summary>
        public const long MaxKeyedBlocks = 1L << 22;

        private long _keyed;
        private volatile bool _keysDropped;

        /// <summary>Gets the number of 16 KiB blocks a piece spans in the image's block numbering.</summary>
        public int BlocksPerPiece { get; init; }

        /// <summary>Gets one bit per full 16 KiB block of the image, set for a block of zeros inside a hashed piece; null without a merkle tree.</summary>
        public ulong[]? ZeroBlocks { get; init; }

        /// <summary>Gets, per hashed piece, the leaf keys of its blocks (see <see cref="PieceHasher.LeafKeys"/>).</summary>
        public ulong[]?[]? BlockKeys { get; init; }

        /// <summary>Gets a value indicating whether more than <see cref="MaxKeyedBlocks"/> blocks were hashed, so no keys are kept.</summary>
        public bool KeysDropped => _keysDropped;

        /// <summary>Gets a value indicating whether a full block of the image was recorded as zeros.</summary>
        public bool IsZeroBlock(long block) => (ZeroBlocks![block >> 6] & (1UL << (int)(block & 63))) != 0;

        /// <summary>Records a hashed piece's zero blocks and block keys (before the hasher finishes the piece).</summary>
        /// <param name="piece">The piece.</param>
        /// <param name="hasher">The hasher that has every block of the piece appended.</param>
        public void RecordBlocks(int piece, PieceHasher hasher)
        {
            if (ZeroBlocks is null)
            {
                return;
            }

            ulong[] keys = new ulong[Math.Min(BlocksPerPiece, LeavesPerPiece)];
            int n = hasher.LeafKeys(keys);
            long first = (long)piece * BlocksPerPiece;
            for (int i = 0; i < n; i++)
            {
                long block = first + i;
                if (keys[i] == PieceHasher.ZeroBlockKey && (block >> 6) < ZeroBlocks.Length)
                {
                    Interlocked.Or(ref ZeroBlocks[block >> 6], 1UL << (int)(block & 63));
                }
            }

            if (_keysDropped)
            {
                return;
            }

            if (Interlocked.Add(ref _keyed, n) > MaxKeyedBlocks)
            {
                _keysDropped = true;
                Array.Clear(BlockKeys!);
                return;
            }

            BlockKeys![piece] = keys;
        }

        /// <summary>Records that a piece is all zeros: its hashes are those of a zero piece of its size.</summary>
        public void SetZero(int piece)
        {
            bool last = piece == PieceCount - 1;
            (last ? LastZeroV1 : ZeroV1)?.CopyTo(V1.AsSpan(piece * SHA1.HashSizeInBytes, SHA1.HashSizeInBytes));
            (last ? LastZeroV2 : ZeroV2)?.CopyTo(V2.AsSpan(piece * MerkleTree.HashSize, MerkleTree.HashSize));
        }
    }

    private sealed class Chunk(AlignedBuffer buffer, int pieces)
    {
        public AlignedBuffer Buffer { get; } = buffer;

        public int Remaining = pieces;
    }

    private readonly record struct WorkItem(Chunk Chunk, int Piece, int Start, int Length);

    /// <summary>Reports progress once per read chunk hashed (not per piece: small pieces would flood the receiver).</summary>
    private sealed class ProgressCounter(long length, long step, IProgress<ManifestBuildProgress>? progress)
    {
        private long _hashed;

        public void Add(int bytes)
        {
            long total = Interlocked.Add(ref _hashed, bytes);
            if (progress is not null && total / step != (total - bytes) / step)
            {
                progress.Report(new ManifestBuildProgress(total, length));
            }
        }
    }

    /// <summary>The shared state of the workers hashing an image file.</summary>
    private sealed class FileState(
        SafeFileHandle file,
        string path,
        long length,
        int pieceLength,
        PieceHashes hashes,
        ManifestBuilderOptions options,
        int windowPieces,
        CancellationToken cancellationToken)
    {
        // Each read: a whole number of 16 KiB merkle blocks, about the size of a core's L2 cache, so the bytes are
        // still cached when they are hashed. Much smaller reads pay the per-call cost too often; larger ones are
        // evicted before they are hashed (benchmarks/README.md, manifest-speed).
        private const int ReadSize = 1024 * 1024;

        private readonly int _pieceCount = (int)((length + pieceLength - 1) / pieceLength);
        private readonly ProgressCounter _progress = new(length, (long)windowPieces * pieceLength, options.Progress);
        private readonly FileHoles _holes = new(file, length);
        private int _next = -1;

        public void Run()
        {
            byte[] buffer = GC.AllocateUninitializedArray<byte>(Math.Min(ReadSize, pieceLength));
            PieceHasher hasher = PieceHasher.ForCurrentThread;
            int piece;
            while ((piece = Interlocked.Increment(ref _next)) < _pieceCount)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (piece % windowPieces == 0)
                {
                    Prefetch((piece / windowPieces) + PrefetchWindows, 1);
                }

                long offset = (long)piece * pieceLength;
                int size = (int)Math.Min(pieceLength, length - offset);
                if (_holes.IsHole(offset, size) || !HashPiece(hasher, buffer, piece, offset, size))
                {
                    hashes.SetZero(piece);
                }

                _progress.Add(size);
            }
        }

        // Reads and hashes a piece, unless all its bytes are zeros: returns false for a zero piece, whose hashes are
        // known. Leading zero chunks are held back (as a count) until a chunk with data shows the piece needs hashing.
        private bool HashPiece(PieceHasher hasher, byte[] buffer, int piece, long offset, int size)
        {
            hasher.Start(sha1: hashes.V1 is not null, root: hashes.V2 is not null);
            int zeros = 0;
            for (int done = 0; done < size;)
            {
                Span<byte> chunk = buffer.AsSpan(0, Math.Min(buffer.Length, size - done));
                ReadExactly(chunk, offset + done);
                done += chunk.Length;
                if (zeros == done - chunk.Length)
                {
                    if (!chunk.ContainsAnyExcept((byte)0))
                    {
                        zeros += chunk.Length;
                        continue;
                    }

                    // Whole chunks of 16 KiB blocks, as Append wants them: a short chunk is only ever the last.
                    ReadOnlySpan<byte> zeroBlock = ZeroBuffer.Memory.Span;
                    for (int z = 0; z < zeros; z += zeroBlock.Length)
                    {
                        hasher.Append(zeroBlock[..Math.Min(zeroBlock.Length, zeros - z)]);
                    }
                }

                hasher.Append(chunk);
            }

            if (zeros == size)
            {
                return false;
            }

            hashes.RecordBlocks(piece, hasher);
            hasher.Finish(
                hashes.LeavesPerPiece,
                hashes.V2 is null ? default : hashes.V2.AsSpan(piece * MerkleTree.HashSize, MerkleTree.HashSize),
                hashes.V1 is null ? default : hashes.V1.AsSpan(piece * SHA1.HashSizeInBytes, SHA1.HashSizeInBytes));
            return true;
        }

        private void ReadExactly(Span<byte> chunk, long offset)
        {
            while (!chunk.IsEmpty)
            {
                int n = RandomAccess.Read(file, chunk, offset);
                if (n == 0)
                {
                    throw Shrank(path, offset, length);
                }

                chunk = chunk[n..];
                offset += n;
            }
        }

        // Advice only: a kernel that ignores it (or another OS) still reads the pages when they are touched. Only the
        // pieces with data are asked for: read-ahead of a hole would fill the page cache with zeros nobody reads.
        // (SEEK_DATA from a piece's start is cheap; SEEK_HOLE is not asked, as on some file systems it scans the page
        // cache to the end of a dense file.)
        public void Prefetch(long firstWindow, int windows)
        {
            long windowBytes = (long)windowPieces * pieceLength;
            long offset = firstWindow * windowBytes;
            if (!OperatingSystem.IsLinux() || offset >= length)
            {
                return;
            }

            long end = Math.Min(length, offset + (windows * windowBytes));
            long run = -1;
            for (long piece = offset; piece < end; piece += pieceLength)
            {
                long data = _holes.NextData(piece);
                if (data < Math.Min(end, piece + pieceLength))
                {
                    run = run < 0 ? data : run;
                }
                else if (run >= 0)
                {
                    _ = Interop.Libc.PosixFadvise(file, run, piece - run, Interop.Libc.POSIX_FADV_WILLNEED);
                    run = -1;
                }
            }

            if (run >= 0)
            {
                _ = Interop.Libc.PosixFadvise(file, run, end - run, Interop.Libc.POSIX_FADV_WILLNEED);
            }
        }
    }
}

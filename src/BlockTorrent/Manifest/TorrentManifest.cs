using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using BlockTorrent.Bencode;

namespace BlockTorrent.Manifest;

/// <summary>
/// An immutable, validated .torrent that describes one image file: BEP 3 v1, BEP 52 v2, or hybrid (both).
/// </summary>
/// <remarks>
/// <para>
/// Everything is checked on the way in: strict bencode, a power-of-two piece length of at least 16 KiB, piece hash
/// counts that match the length, v2 piece layers whose merkle root is the file's <c>pieces root</c>, and, for a
/// hybrid torrent, the same length and piece length in both halves. The info dictionary is kept byte for byte, so
/// the info-hashes are those of the bytes as they appeared.
/// </para>
/// <para>
/// All members are thread-safe. <see cref="VerifyPiece(int, ReadOnlySpan{byte})"/> allocates nothing and runs concurrently on any number of
/// threads. A piece of a v2 or hybrid torrent is verified by its SHA-256 merkle root, which in a consistent hybrid
/// torrent proves its SHA-1 as well (see <see cref="VerifyPiece(int, ReadOnlySpan{byte})"/>).
/// </para>
/// </remarks>
public sealed class TorrentManifest : IImageManifest
{
    private readonly byte[] _info;
    private readonly byte[]? _v1Pieces;
    private readonly byte[]? _piecesRoot;
    private readonly byte[]? _pieceLayer;
    private readonly int _leavesPerPiece;
    private readonly bool[] _isZero;
    private readonly int[] _canonical;
    private readonly TorrentMetadata _metadata;
    private byte[][]? _layers;

    private TorrentManifest(byte[] info, ReadOnlySpan<byte> pieceLayer, bool pieceLayerPresent, TorrentMetadata metadata)
    {
        TorrentInfo parsed = TorrentInfo.Parse(info);
        _info = info;
        _metadata = metadata;
        Name = parsed.Name;
        Length = parsed.Length;
        PieceLength = parsed.PieceLength;
        PieceCount = parsed.PieceCount;
        IsPrivate = parsed.IsPrivate;
        SwarmAuthority = parsed.SwarmAuthority;
        Versions = parsed.Versions;
        _v1Pieces = parsed.V1Pieces;
        _piecesRoot = parsed.PiecesRoot;
        if (_v1Pieces is not null)
        {
            InfoHashV1 = new InfoHash(SHA1.HashData(info));
        }

        if (_piecesRoot is not null)
        {
            InfoHashV2 = new InfoHash(SHA256.HashData(info));
            if (PieceCount == 1)
            {
                // A file no larger than one piece has no piece layer: its tree is only as wide as its blocks need,
                // and the piece's hash is the pieces root itself.
                if (pieceLayerPresent)
                {
                    throw TorrentInfo.Invalid("'piece layers' has an entry for a file no larger than one piece.");
                }

                _leavesPerPiece = (int)MerkleTree.RoundUpToPowerOfTwo(MerkleTree.BlockCount(Length));
                _pieceLayer = _piecesRoot;
            }
            else
            {
                _leavesPerPiece = PieceLength / MerkleTree.BlockSize;
                if (pieceLayerPresent)
                {
                    _pieceLayer = ValidatePieceLayer(pieceLayer);
                }
                else if (_v1Pieces is null)
                {
                    throw TorrentInfo.Invalid("'piece layers' has no entry for the file's pieces root; a v2 torrent needs it to verify pieces.");
                }
            }
        }

        (_isZero, _canonical, ZeroPieceCount, DuplicatePieceCount) = FindZeroAndDuplicatePieces();
        Blocks = metadata.BlockMap is { } blocks ? BlockMap.Parse(blocks, Length) : null;
        Signatures = metadata.Signatures is { } signatures ? ManifestSigning.Read(signatures, InfoHashV1, InfoHashV2) : [];
    }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public long Length { get; }

    /// <inheritdoc />
    public int PieceLength { get; }

    /// <inheritdoc />
    public int PieceCount { get; }

    /// <inheritdoc />
    public TorrentVersions Versions { get; }

    /// <inheritdoc />
    public InfoHash? InfoHashV1 { get; }

    /// <inheritdoc />
    public InfoHash? InfoHashV2 { get; }

    /// <inheritdoc />
    public int ZeroPieceCount { get; }

    /// <inheritdoc />
    public int DuplicatePieceCount { get; }

    /// <summary>Gets a value indicating whether the torrent is private (BEP 27: trackers only, no DHT, PEX or LSD).</summary>
    public bool IsPrivate { get; }

    /// <summary>
    /// Gets the certificate authority of the swarm (the info dictionary's <c>ssl-cert</c>, as libtorrent's SSL
    /// torrents carry it), or <see langword="null"/> for a swarm without TLS. When it is set, every peer connection is
    /// TLS and each peer must present a certificate it signed (see <see cref="SwarmCertificates"/>). It is inside the
    /// info dictionary, so the info-hash covers it.
    /// </summary>
    public X509Certificate2? SwarmAuthority { get; }

    /// <summary>Gets the exact bencoded info dictionary (what the info-hashes hash; served over BEP 9 ut_metadata).</summary>
    public ReadOnlyMemory<byte> InfoDictionary => _info;

    /// <summary>Gets every tracker URL, tiers flattened in order, without duplicates.</summary>
    public IReadOnlyList<string> Trackers => [.. _metadata.TrackerTiers.SelectMany(t => t).Distinct(StringComparer.Ordinal)];

    /// <summary>Gets the tracker tiers (BEP 12 <c>announce-list</c>, or the single <c>announce</c>).</summary>
    public IReadOnlyList<IReadOnlyList<string>> TrackerTiers => _metadata.TrackerTiers;

    /// <summary>Gets the web seed URLs (BEP 19 <c>url-list</c>).</summary>
    public IReadOnlyList<string> WebSeeds => _metadata.WebSeeds;

    /// <summary>Gets the free-text comment, if any.</summary>
    public string? Comment => _metadata.Comment;

    /// <summary>Gets the name of the program that made the torrent, if recorded.</summary>
    public string? CreatedBy => _metadata.CreatedBy;

    /// <summary>Gets when the torrent was made, if recorded.</summary>
    public DateTimeOffset? CreationDate => _metadata.CreationDate;

    /// <summary>
    /// Gets the signatures this library recognises in the torrent's <c>signatures</c> entry (outside the info
    /// dictionary), each already checked against this torrent's info-hashes (<see cref="ManifestSignature.IsValid"/>).
    /// Empty when the torrent is unsigned. Whether a signer is trusted is decided by <see cref="ManifestTrust"/>.
    /// </summary>
    public IReadOnlyList<ManifestSignature> Signatures { get; }

    /// <summary>Gets the v2 merkle root of the image file (32 bytes), or an empty span for a v1-only torrent.</summary>
    public ReadOnlySpan<byte> PiecesRoot => _piecesRoot;

    /// <summary>
    /// Gets a value indicating whether the v2 piece hashes are known. Only a torrent built from a bare info
    /// dictionary (magnet link) of a hybrid torrent can lack them; it then verifies pieces with SHA-1 alone.
    /// </summary>
    public bool HasPieceLayer => _pieceLayer is not null;

    /// <summary>
    /// Gets the number of all-zero 16 KiB blocks inside pieces that travel, as the .torrent's block map names them:
    /// targets fill them in and request only the rest of the piece. 0 without a map (v1-only or other clients' torrents).
    /// </summary>
    public long ZeroBlockCount => Blocks?.ZeroBlocks ?? 0;

    /// <summary>
    /// Gets the number of 16 KiB blocks inside pieces that travel that repeat an earlier block of the image, as the
    /// block map names them: a target copies one from a piece it holds instead of fetching it. 0 without a map.
    /// </summary>
    public long RepeatedBlockCount => Blocks?.RepeatedBlocks ?? 0;

    /// <summary>Gets the zero and repeated 16 KiB blocks inside pieces, or <see langword="null"/> when the .torrent has no map.</summary>
    internal BlockMap? Blocks { get; }

    /// <summary>Gets the same manifest with a block map (or none).</summary>
    /// <param name="blocks">The map, or <see langword="null"/>.</param>
    /// <returns>The manifest with the map.</returns>
    internal TorrentManifest WithBlocks(BlockMap? blocks)
        => new(_info, _pieceLayer, _pieceLayer is not null && _pieceLayer != _piecesRoot, _metadata with { BlockMap = blocks?.Encode() });

    /// <summary>Gets the v2 piece layer: 32 bytes per piece (for a one-piece file, the pieces root).</summary>
    internal ReadOnlySpan<byte> PieceLayer => _pieceLayer;

    /// <summary>Gets the number of merkle leaves (16 KiB blocks, padded) under one piece's v2 hash.</summary>
    internal int LeavesPerPiece => _leavesPerPiece;

    /// <summary>Gets the height of the piece layer above the 16 KiB leaf layer (BEP 52 layer numbering).</summary>
    internal int PieceLayerHeight => System.Numerics.BitOperations.Log2((uint)_leavesPerPiece);

    /// <summary>Gets the height of the pieces root above the leaf layer.</summary>
    internal int TreeHeight => PieceLayerHeight + System.Numerics.BitOperations.Log2((uint)MerkleTree.RoundUpToPowerOfTwo(PieceCount));

    /// <summary>
    /// Answers a BEP 52 hash request from the piece layer (and the layers above it): writes <paramref name="length"/>
    /// hashes of layer <paramref name="baseLayer"/> from <paramref name="index"/>, then the uncle hashes of layers
    /// <c>baseLayer + log2(length)</c> to <c>baseLayer + proofLayers</c> (below the root).
    /// </summary>
    /// <param name="baseLayer">The requested layer: the piece layer or above (leaf hashes need the data).</param>
    /// <param name="index">The first hash; a multiple of <paramref name="length"/>.</param>
    /// <param name="length">The number of hashes: a power of two, at least 2, within the (padded) layer.</param>
    /// <param name="proofLayers">The number of ancestor layers whose uncle hashes are wanted.</param>
    /// <param name="destination">Receives the hashes.</param>
    /// <param name="bytesWritten">The number of bytes written.</param>
    /// <returns><see langword="false"/> (reject) when the request is invalid, cannot be served, or does not fit.</returns>
    internal bool TryGetHashes(int baseLayer, int index, int length, int proofLayers, Span<byte> destination, out int bytesWritten)
    {
        bytesWritten = 0;
        if (_pieceLayer is null || PieceCount < 2 || baseLayer < PieceLayerHeight || baseLayer >= TreeHeight
            || length < 2 || !System.Numerics.BitOperations.IsPow2(length) || index < 0 || index % length != 0 || proofLayers < 0)
        {
            return false;
        }

        byte[][] layers = LazyInitializer.EnsureInitialized(ref _layers, () => MerkleTree.BuildLayers(_pieceLayer, PieceLayerHeight));
        byte[] layer = layers[baseLayer - PieceLayerHeight];
        if ((long)index + length > layer.Length / MerkleTree.HashSize)
        {
            return false;
        }

        int firstUncleLayer = baseLayer + System.Numerics.BitOperations.Log2((uint)length);
        int lastUncleLayer = Math.Min(baseLayer + proofLayers, TreeHeight - 1);
        int uncles = Math.Max(0, lastUncleLayer - firstUncleLayer + 1);
        int size = (length + uncles) * MerkleTree.HashSize;
        if (destination.Length < size)
        {
            return false;
        }

        layer.AsSpan(index * MerkleTree.HashSize, length * MerkleTree.HashSize).CopyTo(destination);
        long position = index / length;
        for (int u = 0; u < uncles; u++, position /= 2)
        {
            layers[firstUncleLayer + u - PieceLayerHeight].AsSpan((int)(position ^ 1) * MerkleTree.HashSize, MerkleTree.HashSize).CopyTo(destination[((length + u) * MerkleTree.HashSize)..]);
        }

        bytesWritten = size;
        return true;
    }

    /// <summary>
    /// Answers a BEP 52 hash request for leaf hashes (layer 0) inside one piece, from that piece's leaves: writes
    /// <paramref name="length"/> leaves from <paramref name="index"/>, then the uncle hashes of layers
    /// <c>log2(length)</c> to <c>proofLayers</c> (below the root), those inside the piece computed from its leaves and
    /// those above it taken from the piece layer.
    /// </summary>
    /// <param name="index">The first leaf in the file; a multiple of <paramref name="length"/>.</param>
    /// <param name="length">The number of leaves: a power of two, at least 2, at most <see cref="LeavesPerPiece"/>.</param>
    /// <param name="proofLayers">The number of ancestor layers whose uncle hashes are wanted.</param>
    /// <param name="pieceLeaves">The leaves of the piece holding <paramref name="index"/>: <see cref="LeavesPerPiece"/> × 32 bytes, proven or computed from the piece.</param>
    /// <param name="destination">Receives the hashes.</param>
    /// <param name="bytesWritten">The number of bytes written.</param>
    /// <returns><see langword="false"/> (reject) when the request is invalid, spans pieces, or does not fit.</returns>
    internal bool TryGetLeafHashes(int index, int length, int proofLayers, ReadOnlySpan<byte> pieceLeaves, Span<byte> destination, out int bytesWritten)
    {
        bytesWritten = 0;
        int width = _leavesPerPiece;
        if (_pieceLayer is null || PieceCount < 2 || length < 2 || length > width || !System.Numerics.BitOperations.IsPow2(length)
            || index < 0 || index % length != 0 || index / width >= PieceCount || proofLayers < 0 || pieceLeaves.Length != width * MerkleTree.HashSize)
        {
            return false;
        }

        int firstUncleLayer = System.Numerics.BitOperations.Log2((uint)length);
        int lastUncleLayer = Math.Min(proofLayers, TreeHeight - 1);
        int uncles = Math.Max(0, lastUncleLayer - firstUncleLayer + 1);
        int size = (length + uncles) * MerkleTree.HashSize;
        if (destination.Length < size)
        {
            return false;
        }

        int local = index % width;
        pieceLeaves.Slice(local * MerkleTree.HashSize, length * MerkleTree.HashSize).CopyTo(destination);

        // The piece's own subtree, reduced a layer at a time up to the uncles it must give; above it, the piece layer's tree.
        byte[] work = ArrayPool<byte>.Shared.Rent(pieceLeaves.Length);
        try
        {
            Span<byte> layer = work.AsSpan(0, pieceLeaves.Length);
            pieceLeaves.CopyTo(layer);
            int count = width;
            int height = 0;
            byte[][]? layers = null;
            for (int u = 0; u < uncles; u++)
            {
                int uncleLayer = firstUncleLayer + u;
                Span<byte> uncle = destination.Slice((length + u) * MerkleTree.HashSize, MerkleTree.HashSize);
                if (uncleLayer < PieceLayerHeight)
                {
                    for (; height < uncleLayer; height++, count /= 2)
                    {
                        for (int i = 0; i < count / 2; i++)
                        {
                            SHA256.HashData(layer.Slice(2 * i * MerkleTree.HashSize, 2 * MerkleTree.HashSize), layer.Slice(i * MerkleTree.HashSize, MerkleTree.HashSize));
                        }
                    }

                    layer.Slice(((local >> uncleLayer) ^ 1) * MerkleTree.HashSize, MerkleTree.HashSize).CopyTo(uncle);
                }
                else
                {
                    layers ??= LazyInitializer.EnsureInitialized(ref _layers, () => MerkleTree.BuildLayers(_pieceLayer, PieceLayerHeight));
                    layers[uncleLayer - PieceLayerHeight].AsSpan(((index >> uncleLayer) ^ 1) * MerkleTree.HashSize, MerkleTree.HashSize).CopyTo(uncle);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(work);
        }

        bytesWritten = size;
        return true;
    }

    /// <summary>Reads and validates a .torrent.</summary>
    /// <param name="torrentFile">The .torrent bytes.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="InvalidTorrentException">The bytes are not a valid single-file torrent; the message says why.</exception>
    public static TorrentManifest Parse(ReadOnlySpan<byte> torrentFile)
    {
        try
        {
            return ParseCore(torrentFile);
        }
        catch (BencodeException e)
        {
            throw new InvalidTorrentException($"Invalid torrent: {e.Message}", e);
        }
    }

    /// <summary>Reads and validates a .torrent file.</summary>
    /// <param name="path">The file path.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="InvalidTorrentException">The file is not a valid single-file torrent.</exception>
    public static TorrentManifest Load(string path) => Parse(ReadFileChecked(path));

    /// <summary>Reads and validates a .torrent file asynchronously.</summary>
    /// <param name="path">The file path.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="InvalidTorrentException">The file is not a valid single-file torrent.</exception>
    public static async ValueTask<TorrentManifest> LoadAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        long size = new FileInfo(path).Length;
        if (size > BencodeReaderOptions.DefaultMaxSize)
        {
            throw new InvalidTorrentException($"Invalid torrent: '{path}' is {size} bytes, more than the limit of {BencodeReaderOptions.DefaultMaxSize}.");
        }

        byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return Parse(bytes);
    }

    /// <summary>
    /// Builds a manifest from an info dictionary received without its .torrent (BEP 9 metadata exchange after a
    /// magnet link), after checking that it hashes to <paramref name="expectedInfoHash"/>.
    /// </summary>
    /// <param name="info">The bencoded info dictionary.</param>
    /// <param name="expectedInfoHash">The info-hash from the magnet link: v1 (SHA-1) or v2 (SHA-256).</param>
    /// <param name="pieceLayer">
    /// For a v2 torrent of more than one piece, the piece layer (32 bytes per piece, received through BEP 52 hash
    /// requests); it is checked against the pieces root. Empty when not (yet) known, which only a hybrid torrent allows.
    /// </param>
    /// <param name="trackers">Trackers to record (for example the magnet link's <c>tr</c>), each in its own tier.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="InvalidTorrentException">The bytes do not hash to the expected info-hash, or are invalid.</exception>
    public static TorrentManifest FromInfoDictionary(ReadOnlySpan<byte> info, InfoHash expectedInfoHash, ReadOnlySpan<byte> pieceLayer = default, IEnumerable<string>? trackers = null)
    {
        Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
        int hashLength = expectedInfoHash.Version switch
        {
            TorrentVersions.V1 => SHA1.HashData(info, actual),
            TorrentVersions.V2 => SHA256.HashData(info, actual),
            _ => throw new ArgumentException("The expected info-hash is empty.", nameof(expectedInfoHash)),
        };
        if (!actual[..hashLength].SequenceEqual(expectedInfoHash.Span))
        {
            throw new InvalidTorrentException($"Invalid torrent: the info dictionary hashes to {Convert.ToHexStringLower(actual[..hashLength])}, not the expected {expectedInfoHash}.");
        }

        var metadata = new TorrentMetadata { TrackerTiers = trackers is null ? [] : [.. trackers.Select(t => (IReadOnlyList<string>)[t])] };
        try
        {
            return new TorrentManifest(info.ToArray(), pieceLayer, !pieceLayer.IsEmpty, metadata);
        }
        catch (BencodeException e)
        {
            throw new InvalidTorrentException($"Invalid torrent: {e.Message}", e);
        }
    }

    /// <summary>Creates a manifest from an info dictionary this library encoded, plus its piece layer.</summary>
    internal static TorrentManifest Create(byte[] info, ReadOnlySpan<byte> pieceLayer, TorrentMetadata metadata)
        => new(info, pieceLayer, !pieceLayer.IsEmpty, metadata);

    /// <summary>
    /// Returns a copy that announces to <paramref name="trackers"/> (each in its own tier) instead of this manifest's
    /// trackers, for a tracker that moved. The info dictionary is outside the change, so the info-hashes stay the same
    /// and peers of either copy are one swarm; the piece layer, web seeds, comment and creation fields are kept.
    /// </summary>
    /// <param name="trackers">The tracker URLs; none for a manifest without trackers.</param>
    /// <returns>The copy.</returns>
    public TorrentManifest WithTrackers(IEnumerable<string> trackers)
    {
        ArgumentNullException.ThrowIfNull(trackers);
        IReadOnlyList<string>[] tiers = [.. trackers.Select(t => (IReadOnlyList<string>)[t])];
        if (tiers.Any(t => string.IsNullOrWhiteSpace(t[0])))
        {
            throw new ArgumentException("A tracker URL is empty.", nameof(trackers));
        }

        return new TorrentManifest(_info, _pieceLayer, _pieceLayer is not null, _metadata with { TrackerTiers = tiers });
    }

    /// <summary>
    /// Returns a copy signed with <paramref name="signingKey"/>: an ECDSA P-256 signature over the info-hashes, in the
    /// top-level <c>signatures</c> entry, which replaces any signatures this manifest had. The info dictionary is
    /// untouched, so the info-hashes stay the same, every BitTorrent client still reads the .torrent, and signed
    /// and unsigned copies are one swarm. The signature survives <see cref="WithTrackers"/>.
    /// </summary>
    /// <param name="signingKey">An ECDSA key on NIST P-256 holding its private part.</param>
    /// <returns>The signed copy.</returns>
    /// <exception cref="ArgumentException">The key is not on P-256.</exception>
    /// <exception cref="CryptographicException">The key cannot sign (it has no private part, for instance).</exception>
    public TorrentManifest WithSignature(ECDsa signingKey) => WithSignature(signingKey, new ManifestSigningOptions());

    /// <summary>
    /// Returns a copy signed with <paramref name="signingKey"/>, as <see cref="WithSignature(ECDsa)"/> does, with the
    /// signer's certificate chain beside the signature and the signing time and expiry of <paramref name="options"/>
    /// signed with it.
    /// </summary>
    /// <param name="signingKey">An ECDSA key on NIST P-256 holding its private part.</param>
    /// <param name="options">The certificates, signing time and expiry.</param>
    /// <returns>The signed copy.</returns>
    /// <exception cref="ArgumentException">The key is not on P-256, the first certificate is not the key's, or the signature would expire before it is made.</exception>
    /// <exception cref="CryptographicException">The key cannot sign (it has no private part, for instance).</exception>
    public TorrentManifest WithSignature(ECDsa signingKey, ManifestSigningOptions options)
    {
        ManifestSigning.CheckKey(signingKey, nameof(signingKey));
        ArgumentNullException.ThrowIfNull(options);
        byte[] signatures = ManifestSigning.Sign(signingKey, InfoHashV1, InfoHashV2, options, TimeProvider.System.GetUtcNow());
        return new TorrentManifest(_info, _pieceLayer, _pieceLayer is not null, _metadata with { Signatures = signatures });
    }

    /// <summary>Encodes the manifest as a standard .torrent.</summary>
    /// <returns>The .torrent bytes.</returns>
    public byte[] ToTorrentBytes()
    {
        var buffer = new ArrayBufferWriter<byte>(_info.Length + (_pieceLayer?.Length ?? 0) + 1024);
        var writer = new BencodeWriter(buffer);

        // Keys in ascending byte order, as BEP 3 requires.
        writer.WriteStartDictionary();
        IReadOnlyList<IReadOnlyList<string>> tiers = _metadata.TrackerTiers;
        if (tiers.Count > 0)
        {
            writer.WriteString("announce");
            writer.WriteString(tiers[0][0]);
            if (tiers.Count > 1 || tiers[0].Count > 1)
            {
                writer.WriteString("announce-list");
                writer.WriteStartList();
                foreach (IReadOnlyList<string> tier in tiers)
                {
                    writer.WriteStartList();
                    foreach (string url in tier)
                    {
                        writer.WriteString(url);
                    }

                    writer.WriteEnd();
                }

                writer.WriteEnd();
            }
        }

        if (_metadata.BlockMap is { } blockMap)
        {
            writer.WriteString(BlockMap.Key);
            writer.WriteString(blockMap);
        }

        if (_metadata.Comment is { } comment)
        {
            writer.WriteString("comment");
            writer.WriteString(comment);
        }

        if (_metadata.CreatedBy is { } createdBy)
        {
            writer.WriteString("created by");
            writer.WriteString(createdBy);
        }

        if (_metadata.CreationDate is { } date)
        {
            writer.WriteString("creation date");
            writer.WriteInteger(date.ToUnixTimeSeconds());
        }

        writer.WriteString("info");
        writer.WriteRaw(_info);
        if (_piecesRoot is not null && _pieceLayer is not null && PieceCount > 1)
        {
            writer.WriteString("piece layers");
            writer.WriteStartDictionary();
            writer.WriteString(_piecesRoot);
            writer.WriteString(_pieceLayer);
            writer.WriteEnd();
        }

        if (_metadata.Signatures is { } signatures)
        {
            writer.WriteString("signatures");
            writer.WriteRaw(signatures);
        }

        if (_metadata.WebSeeds.Count > 0)
        {
            writer.WriteString("url-list");
            writer.WriteStartList();
            foreach (string url in _metadata.WebSeeds)
            {
                writer.WriteString(url);
            }

            writer.WriteEnd();
        }

        writer.WriteEnd();
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the manifest as a .torrent file (created or replaced).</summary>
    /// <param name="path">The file path.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the file is written.</returns>
    public Task SaveAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        return File.WriteAllBytesAsync(path, ToTorrentBytes(), cancellationToken);
    }

    /// <inheritdoc />
    public long GetPieceOffset(int piece)
    {
        CheckPiece(piece);
        return (long)piece * PieceLength;
    }

    /// <inheritdoc />
    public int GetPieceSize(int piece)
    {
        CheckPiece(piece);
        return piece < PieceCount - 1 ? PieceLength : (int)(Length - ((long)piece * PieceLength));
    }

    /// <inheritdoc />
    public bool IsZeroPiece(int piece)
    {
        CheckPiece(piece);
        return _isZero[piece];
    }

    /// <inheritdoc />
    public int GetCanonicalPiece(int piece)
    {
        CheckPiece(piece);
        return _canonical[piece];
    }

    /// <summary>Gets the v2 hash of a piece: the root of its subtree in the file's merkle tree.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns>32 bytes, or an empty span when the torrent has no v2 piece layer.</returns>
    public ReadOnlySpan<byte> GetPieceHashV2(int piece)
    {
        CheckPiece(piece);
        return _pieceLayer is null ? default : _pieceLayer.AsSpan(piece * MerkleTree.HashSize, MerkleTree.HashSize);
    }

    /// <summary>Gets the v1 SHA-1 hash of a piece.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns>20 bytes, or an empty span for a v2-only torrent.</returns>
    public ReadOnlySpan<byte> GetPieceHashV1(int piece)
    {
        CheckPiece(piece);
        return _v1Pieces is null ? default : _v1Pieces.AsSpan(piece * SHA1.HashSizeInBytes, SHA1.HashSizeInBytes);
    }

    /// <summary>
    /// Checks bytes against a piece's hash: the SHA-256 merkle root when the torrent has v2 hashes (v2 and hybrid),
    /// else the SHA-1 hash.
    /// </summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="data">The piece's bytes; a length other than <see cref="GetPieceSize"/> fails verification.</param>
    /// <returns><see langword="true"/> when the bytes are the piece.</returns>
    /// <remarks>
    /// A hybrid torrent is checked by its v2 half alone. In a consistent hybrid torrent (every tool, BlockTorrent
    /// included, makes both halves from the same bytes) the bytes that match the merkle root are exactly the bytes
    /// the SHA-1 was made of, so checking the SHA-1 too proves nothing more and doubles the hashing; SHA-256 is the
    /// stronger of the two (SHA-1 has practical collisions). Only a torrent whose halves describe different data
    /// (a faulty or hostile creator) differs; <see cref="Writing.PieceWriterOptions.VerifyAllHashes"/> checks both
    /// halves in one pass and stops such a deployment with an error.
    /// </remarks>
    public bool VerifyPiece(int piece, ReadOnlySpan<byte> data) => VerifyPiece(piece, data, allHashes: false);

    /// <summary>
    /// Checks bytes against a piece's hashes: the merkle root when the torrent has v2 hashes, else the SHA-1; with
    /// <paramref name="allHashes"/>, every hash the torrent carries (both halves of a hybrid torrent, in one pass).
    /// </summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="data">The piece's bytes.</param>
    /// <param name="allHashes">Whether to check the SHA-1 of a hybrid torrent as well.</param>
    /// <returns><see langword="true"/> when the bytes match every hash checked.</returns>
    /// <exception cref="InvalidTorrentException">
    /// <paramref name="allHashes"/> is set and the bytes match one half of a hybrid torrent but not the other: the
    /// torrent is inconsistent, whoever sent the bytes.
    /// </exception>
    public bool VerifyPiece(int piece, ReadOnlySpan<byte> data, bool allHashes)
    {
        CheckPiece(piece);
        if (data.Length != GetPieceSize(piece))
        {
            return false;
        }

        PieceHasher hasher = PieceHasher.ForCurrentThread;
        Span<byte> root = stackalloc byte[MerkleTree.HashSize];
        Span<byte> sha1 = stackalloc byte[SHA1.HashSizeInBytes];
        if (_pieceLayer is null)
        {
            hasher.ComputeSha1(data, sha1);
            return sha1.SequenceEqual(_v1Pieces.AsSpan(piece * SHA1.HashSizeInBytes, SHA1.HashSizeInBytes));
        }

        if (!allHashes || _v1Pieces is null)
        {
            hasher.ComputeRoot(data, _leavesPerPiece, root);
            return root.SequenceEqual(_pieceLayer.AsSpan(piece * MerkleTree.HashSize, MerkleTree.HashSize));
        }

        hasher.ComputeBoth(data, _leavesPerPiece, root, sha1);
        bool v2 = root.SequenceEqual(_pieceLayer.AsSpan(piece * MerkleTree.HashSize, MerkleTree.HashSize));
        bool v1 = sha1.SequenceEqual(_v1Pieces.AsSpan(piece * SHA1.HashSizeInBytes, SHA1.HashSizeInBytes));
        if (v1 != v2)
        {
            throw new InvalidTorrentException(string.Create(
                CultureInfo.InvariantCulture,
                $"Invalid torrent: the v1 and v2 hashes of piece {piece} of '{Name}' describe different data (the bytes match its {(v2 ? "SHA-256 merkle root" : "SHA-1 hash")} but not its {(v2 ? "SHA-1 hash" : "SHA-256 merkle root")}). The hybrid torrent is inconsistent; nothing was written."));
        }

        return v1;
    }

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Length} bytes, {PieceCount} pieces of {PieceLength}, {Versions})";

    private static TorrentManifest ParseCore(ReadOnlySpan<byte> torrent)
    {
        var tiers = new List<IReadOnlyList<string>>();
        string? announce = null;
        var webSeeds = new List<string>();
        string? comment = null;
        string? createdBy = null;
        DateTimeOffset? creationDate = null;
        int infoStart = -1, infoEnd = -1;
        int layerStart = -1, layerLength = 0, layerKeyStart = -1;
        int layerEntries = 0;
        byte[]? signatures = null;
        byte[]? blockMap = null;

        var reader = new BencodeReader(torrent);
        reader.ReadExpect(BencodeTokenType.StartDictionary, "the torrent");
        while (reader.Read() && reader.TokenType == BencodeTokenType.String)
        {
            switch (Encoding.ASCII.GetString(reader.ValueSpan))
            {
                case "announce":
                    announce = TorrentInfo.ReadText(ref reader, "announce");
                    break;
                case "announce-list":
                    reader.ReadExpect(BencodeTokenType.StartList, "announce-list");
                    while (reader.Read() && reader.TokenType != BencodeTokenType.EndList)
                    {
                        if (reader.TokenType != BencodeTokenType.StartList)
                        {
                            reader.ThrowHere("a tier of announce-list must be a list");
                        }

                        var tier = new List<string>();
                        while (reader.Read() && reader.TokenType != BencodeTokenType.EndList)
                        {
                            tier.Add(TorrentInfo.TextOf(ref reader, "a tracker URL in announce-list"));
                        }

                        if (tier.Count > 0)
                        {
                            tiers.Add(tier);
                        }
                    }

                    break;
                case BlockMap.Key:
                    reader.ReadExpect(BencodeTokenType.String, BlockMap.Key);
                    blockMap = reader.ValueSpan.ToArray();
                    break;
                case "comment":
                    comment = TorrentInfo.ReadText(ref reader, "comment");
                    break;
                case "created by":
                    createdBy = TorrentInfo.ReadText(ref reader, "created by");
                    break;
                case "creation date":
                    reader.ReadExpect(BencodeTokenType.Integer, "creation date");
                    creationDate = reader.IntegerValue is >= 0 and <= 253402300799 ? DateTimeOffset.FromUnixTimeSeconds(reader.IntegerValue) : null;
                    break;
                case "info":
                    reader.ReadExpect(BencodeTokenType.StartDictionary, "info");
                    infoStart = reader.TokenStart;
                    reader.Skip();
                    infoEnd = reader.BytesConsumed;
                    break;
                case "piece layers":
                    reader.ReadExpect(BencodeTokenType.StartDictionary, "piece layers");
                    while (reader.Read() && reader.TokenType == BencodeTokenType.String)
                    {
                        layerEntries++;
                        layerKeyStart = reader.BytesConsumed - reader.ValueSpan.Length;
                        if (reader.ValueSpan.Length != SHA256.HashSizeInBytes)
                        {
                            reader.ThrowHere($"a key of 'piece layers' is {reader.ValueSpan.Length} bytes, not a 32-byte pieces root");
                        }

                        reader.ReadExpect(BencodeTokenType.String, "a piece layer");
                        layerStart = reader.BytesConsumed - reader.ValueSpan.Length;
                        layerLength = reader.ValueSpan.Length;
                    }

                    break;
                case "signatures":
                    reader.Read();
                    int signaturesStart = reader.TokenStart;
                    reader.Skip();
                    if (reader.TokenType == BencodeTokenType.EndDictionary)
                    {
                        signatures = torrent[signaturesStart..reader.BytesConsumed].ToArray();
                    }

                    break;
                case "url-list":
                    reader.Read();
                    if (reader.TokenType == BencodeTokenType.String)
                    {
                        if (!reader.ValueSpan.IsEmpty)
                        {
                            webSeeds.Add(TorrentInfo.TextOf(ref reader, "url-list"));
                        }
                    }
                    else if (reader.TokenType == BencodeTokenType.StartList)
                    {
                        while (reader.Read() && reader.TokenType != BencodeTokenType.EndList)
                        {
                            webSeeds.Add(TorrentInfo.TextOf(ref reader, "a URL in url-list"));
                        }
                    }
                    else
                    {
                        reader.ThrowHere("url-list must be a string or a list of strings");
                    }

                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        reader.Read();
        if (infoStart < 0)
        {
            throw TorrentInfo.Invalid("the torrent has no 'info' dictionary.");
        }

        if (tiers.Count == 0 && announce is not null)
        {
            tiers.Add([announce]);
        }

        byte[] info = torrent[infoStart..infoEnd].ToArray();
        var metadata = new TorrentMetadata
        {
            TrackerTiers = tiers,
            WebSeeds = webSeeds,
            Comment = comment,
            CreatedBy = createdBy,
            CreationDate = creationDate,
            Signatures = signatures,
            BlockMap = blockMap,
        };

        if (layerEntries > 1)
        {
            throw TorrentInfo.Invalid($"'piece layers' has {layerEntries} entries; a single-file torrent has at most one.");
        }

        ReadOnlySpan<byte> layer = layerStart >= 0 ? torrent.Slice(layerStart, layerLength) : default;
        var manifest = new TorrentManifest(info, layer, layerStart >= 0, metadata);
        if (layerStart >= 0 && !torrent.Slice(layerKeyStart, SHA256.HashSizeInBytes).SequenceEqual(manifest.PiecesRoot))
        {
            throw TorrentInfo.Invalid("the key of 'piece layers' is not the file's pieces root.");
        }

        if (layerStart >= 0 && manifest._piecesRoot is null)
        {
            throw TorrentInfo.Invalid("a v1-only torrent has 'piece layers'.");
        }

        return manifest;
    }

    private static byte[] ReadFileChecked(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        long size = new FileInfo(path).Length;
        if (size > BencodeReaderOptions.DefaultMaxSize)
        {
            throw new InvalidTorrentException($"Invalid torrent: '{path}' is {size} bytes, more than the limit of {BencodeReaderOptions.DefaultMaxSize}.");
        }

        return File.ReadAllBytes(path);
    }

    private byte[] ValidatePieceLayer(ReadOnlySpan<byte> layer)
    {
        long expected = (long)PieceCount * MerkleTree.HashSize;
        if (layer.Length != expected)
        {
            throw TorrentInfo.Invalid($"the piece layer is {layer.Length} bytes; {PieceCount} pieces need {expected}.");
        }

        byte[] copy = layer.ToArray();
        byte[] work = (byte[])copy.Clone();
        Span<byte> root = stackalloc byte[MerkleTree.HashSize];
        int pieceHeight = System.Numerics.BitOperations.Log2((uint)_leavesPerPiece);
        MerkleTree.ReduceLayer(work, PieceCount, MerkleTree.RoundUpToPowerOfTwo(PieceCount), pieceHeight, root);
        if (!root.SequenceEqual(_piecesRoot))
        {
            throw TorrentInfo.Invalid("the piece layer's merkle root is not the file's pieces root.");
        }

        return copy;
    }

    private (bool[] IsZero, int[] Canonical, int Zeros, int Duplicates) FindZeroAndDuplicatePieces()
    {
        var isZero = new bool[PieceCount];
        var canonical = new int[PieceCount];
        int zeros = 0, duplicates = 0;

        // Hashes of all-zero pieces: the full size, and the last piece's size.
        int lastSize = GetPieceSize(PieceCount - 1);
        (byte[]? v1Last, byte[]? v2Last) = ZeroHashesOf(lastSize);

        // A one-piece file has no full-size piece (and its tree is only as wide as its last piece needs).
        (byte[]? v1Full, byte[]? v2Full) = PieceCount == 1 ? (v1Last, v2Last) : ZeroHashesOf(PieceLength);

        var firstByHash = new Dictionary<HashKey, int>();
        for (int i = 0; i < PieceCount; i++)
        {
            canonical[i] = i;
            bool last = i == PieceCount - 1;
            ReadOnlySpan<byte> v1 = _v1Pieces is null ? default : _v1Pieces.AsSpan(i * SHA1.HashSizeInBytes, SHA1.HashSizeInBytes);
            ReadOnlySpan<byte> v2 = _pieceLayer is null ? default : _pieceLayer.AsSpan(i * MerkleTree.HashSize, MerkleTree.HashSize);
            if ((_v1Pieces is null || v1.SequenceEqual(last ? v1Last : v1Full))
                && (_pieceLayer is null || v2.SequenceEqual(last ? v2Last : v2Full)))
            {
                isZero[i] = true;
                zeros++;
                continue;
            }

            // Duplicates must have the same size and every hash equal (both halves of a hybrid torrent), so a
            // torrent whose halves disagree can never make us copy bytes to a piece they do not verify against.
            var key = new HashKey(_pieceLayer is null ? v1 : v2, GetPieceSize(i));
            if (firstByHash.TryGetValue(key, out int first))
            {
                if (HaveSameHashes(i, first))
                {
                    canonical[i] = first;
                    duplicates++;
                }
            }
            else
            {
                firstByHash.Add(key, i);
            }
        }

        return (isZero, canonical, zeros, duplicates);
    }

    // The key only narrows the search: every hash the torrent carries must be equal, byte for byte.
    private bool HaveSameHashes(int a, int b)
        => GetPieceSize(a) == GetPieceSize(b)
            && (_v1Pieces is null || GetPieceHashV1(a).SequenceEqual(GetPieceHashV1(b)))
            && (_pieceLayer is null || GetPieceHashV2(a).SequenceEqual(GetPieceHashV2(b)));

    private (byte[]? V1, byte[]? V2) ZeroHashesOf(int size)
        => (_v1Pieces is null ? null : ZeroPieceHashes.Sha1(size), _pieceLayer is null ? null : ZeroPieceHashes.Root(size, _leavesPerPiece));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void CheckPiece(int piece)
    {
        if ((uint)piece >= (uint)PieceCount)
        {
            ThrowPieceOutOfRange(piece);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ThrowPieceOutOfRange(int piece)
        => throw new ArgumentOutOfRangeException(nameof(piece), piece, $"The image has pieces 0 to {PieceCount - 1}.");

    /// <summary>A lookup key for duplicate detection: the first 16 bytes of a piece's hash, and its size.</summary>
    private readonly record struct HashKey(ulong A, ulong B, int Size)
    {
        public HashKey(ReadOnlySpan<byte> hash, int size)
            : this(BinaryPrimitives.ReadUInt64LittleEndian(hash), BinaryPrimitives.ReadUInt64LittleEndian(hash[8..]), size)
        {
        }
    }
}

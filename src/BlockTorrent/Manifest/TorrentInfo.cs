using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using BlockTorrent.Bencode;

namespace BlockTorrent.Manifest;

/// <summary>
/// The validated contents of an info dictionary that describes one image file: BEP 3 single-file (or a v1 file list
/// of one file plus BEP 47 pad files), BEP 52 file tree of one file, or both (hybrid).
/// </summary>
internal sealed class TorrentInfo
{
    /// <summary>The smallest piece length: one 16 KiB block.</summary>
    public const int MinPieceLength = 16 * 1024;

    /// <summary>The largest piece length accepted: 256 MiB (piece buffers are held in memory).</summary>
    public const int MaxPieceLength = 256 * 1024 * 1024;

    private TorrentInfo()
    {
    }

    public required string Name { get; init; }

    public required long Length { get; init; }

    public required int PieceLength { get; init; }

    public required int PieceCount { get; init; }

    public required bool IsPrivate { get; init; }

    /// <summary>Gets the swarm's certificate authority (<c>ssl-cert</c>), or <see langword="null"/> for a swarm without TLS.</summary>
    public X509Certificate2? SwarmAuthority { get; init; }

    /// <summary>Gets the v1 piece hashes (20 bytes each), or <see langword="null"/> without v1.</summary>
    public byte[]? V1Pieces { get; init; }

    /// <summary>Gets the v2 root of the file's merkle tree, or <see langword="null"/> without v2.</summary>
    public byte[]? PiecesRoot { get; init; }

    public TorrentVersions Versions => (V1Pieces is null ? TorrentVersions.None : TorrentVersions.V1) | (PiecesRoot is null ? TorrentVersions.None : TorrentVersions.V2);

    /// <summary>Parses and validates an info dictionary.</summary>
    /// <param name="info">The bencoded info dictionary, exactly.</param>
    /// <returns>The validated fields.</returns>
    /// <exception cref="InvalidTorrentException">Anything is wrong.</exception>
    public static TorrentInfo Parse(ReadOnlySpan<byte> info)
    {
        string? name = null;
        long? pieceLength = null;
        long? v1Length = null;
        byte[]? pieces = null;
        long? metaVersion = null;
        long isPrivate = 0;
        X509Certificate2? swarmAuthority = null;
        V1Files? files = null;
        FileTree? tree = null;

        var reader = new BencodeReader(info);
        reader.ReadExpect(BencodeTokenType.StartDictionary, "the info dictionary");
        while (reader.Read() && reader.TokenType == BencodeTokenType.String)
        {
            switch (Encoding.ASCII.GetString(reader.ValueSpan))
            {
                case "name":
                    name = ReadText(ref reader, "info.name");
                    break;
                case "piece length":
                    pieceLength = ReadInteger(ref reader, "info.piece length");
                    break;
                case "length":
                    v1Length = ReadInteger(ref reader, "info.length");
                    break;
                case "pieces":
                    reader.ReadExpect(BencodeTokenType.String, "info.pieces");
                    pieces = reader.ValueSpan.ToArray();
                    break;
                case "meta version":
                    metaVersion = ReadInteger(ref reader, "info.meta version");
                    break;
                case "private":
                    isPrivate = ReadInteger(ref reader, "info.private");
                    break;
                case "ssl-cert":
                    swarmAuthority = SwarmCertificates.ReadAuthority(ReadText(ref reader, "info.ssl-cert"));
                    break;
                case "files":
                    files = V1Files.Read(ref reader);
                    break;
                case "file tree":
                    reader.ReadExpect(BencodeTokenType.StartDictionary, "info.file tree");
                    tree = new FileTree();
                    tree.Read(ref reader, depth: 0);
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }

        reader.Read();

        if (string.IsNullOrEmpty(name))
        {
            throw Invalid("info.name is missing or empty.");
        }

        if (name is "." or ".." || name.AsSpan().IndexOfAny('/', '\\', '\0') >= 0)
        {
            throw Invalid($"info.name '{name}' is not a plain file name (it must not contain '/', '\\' or NUL, nor be '.' or '..').");
        }

        if (pieceLength is not { } pl)
        {
            throw Invalid("info.piece length is missing.");
        }

        if (pl < MinPieceLength || pl > MaxPieceLength || !BitOperations.IsPow2(pl))
        {
            throw Invalid($"info.piece length is {pl}; it must be a power of two from {MinPieceLength} (16 KiB) to {MaxPieceLength} (256 MiB).");
        }

        if (isPrivate is not (0 or 1))
        {
            throw Invalid($"info.private is {isPrivate}; it must be 0 or 1.");
        }

        bool hasV1 = pieces is not null;
        bool hasV2 = metaVersion is not null;
        if (hasV2 && metaVersion != 2)
        {
            throw Invalid($"info.meta version is {metaVersion}; only version 2 is known.");
        }

        if (!hasV1 && !hasV2)
        {
            throw Invalid("the info dictionary has neither 'pieces' (v1) nor 'meta version' (v2).");
        }

        if (files is not null && v1Length is not null)
        {
            throw Invalid("the info dictionary has both 'length' and 'files'.");
        }

        long? length = null;
        if (hasV1)
        {
            if (files is not null)
            {
                v1Length = files.ImageLength;
            }

            if (v1Length is null)
            {
                throw Invalid("a v1 info dictionary has neither 'length' nor 'files'.");
            }

            length = v1Length;
        }
        else if (v1Length is not null || files is not null)
        {
            throw Invalid("a v2-only info dictionary has a v1 'length' or 'files' but no 'pieces'.");
        }

        byte[]? piecesRoot = null;
        if (hasV2)
        {
            if (tree is null)
            {
                throw Invalid("a v2 info dictionary has no 'file tree'.");
            }

            if (tree.FileCount != 1)
            {
                throw Invalid($"the file tree holds {tree.FileCount} files; a BlockTorrent image is exactly one file (multi-file torrents are not supported).");
            }

            if (length is not null && length != tree.Length)
            {
                throw Invalid($"hybrid torrent: the v1 length {length} differs from the v2 file length {tree.Length}.");
            }

            length = tree.Length;
            piecesRoot = tree.PiecesRoot;
        }
        else if (tree is not null)
        {
            throw Invalid("the info dictionary has a 'file tree' but no 'meta version'.");
        }

        if (length <= 0)
        {
            throw Invalid($"the image length is {length}; it must be positive.");
        }

        long pieceCount = (length!.Value + pl - 1) / pl;
        if (pieceCount > int.MaxValue / SHA256.HashSizeInBytes)
        {
            throw Invalid($"the image has {pieceCount} pieces, too many; use a larger piece length.");
        }

        if (hasV2 && piecesRoot is null)
        {
            throw Invalid("the file tree's file has no 'pieces root'.");
        }

        if (hasV1 && pieces!.Length != pieceCount * SHA1.HashSizeInBytes)
        {
            throw Invalid(pieces.Length % SHA1.HashSizeInBytes != 0
                ? $"info.pieces is {pieces.Length} bytes, not a multiple of 20."
                : $"info.pieces holds {pieces.Length / SHA1.HashSizeInBytes} hashes, but {length} bytes in pieces of {pl} make {pieceCount} pieces.");
        }

        if (files is not null && files.PaddingLength > 0 && files.PaddingLength >= pl - ((length.Value - 1) % pl))
        {
            throw Invalid("the pad files after the image reach past its last piece.");
        }

        return new TorrentInfo
        {
            Name = name,
            Length = length.Value,
            PieceLength = (int)pl,
            PieceCount = (int)pieceCount,
            IsPrivate = isPrivate == 1,
            SwarmAuthority = swarmAuthority,
            V1Pieces = pieces,
            PiecesRoot = piecesRoot,
        };
    }

    public static InvalidTorrentException Invalid(string message) => new("Invalid torrent: " + message);

    private static long ReadInteger(ref BencodeReader reader, string what)
    {
        reader.ReadExpect(BencodeTokenType.Integer, what);
        return reader.IntegerValue;
    }

    /// <summary>Reads the next token as a UTF-8 text string.</summary>
    internal static string ReadText(ref BencodeReader reader, string what)
    {
        reader.ReadExpect(BencodeTokenType.String, what);
        return TextOf(ref reader, what);
    }

    /// <summary>Decodes the current string token as strict UTF-8.</summary>
    internal static string TextOf(ref BencodeReader reader, string what)
    {
        if (reader.TokenType != BencodeTokenType.String)
        {
            reader.ThrowHere($"{what} must be a byte string");
        }

        try
        {
            return StrictUtf8.GetString(reader.ValueSpan);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidTorrentException($"Invalid torrent: {what} is not valid UTF-8.", e);
        }
    }

    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>A v1 'files' list: one image file, optionally followed by BEP 47 pad files.</summary>
    private sealed class V1Files
    {
        public long ImageLength { get; private set; }

        public long PaddingLength { get; private set; }

        public static V1Files Read(ref BencodeReader reader)
        {
            var result = new V1Files();
            int realFiles = 0;
            reader.ReadExpect(BencodeTokenType.StartList, "info.files");
            while (reader.Read() && reader.TokenType != BencodeTokenType.EndList)
            {
                if (reader.TokenType != BencodeTokenType.StartDictionary)
                {
                    reader.ThrowHere("an entry of info.files must be a dictionary");
                }

                long? length = null;
                bool pad = false;
                while (reader.Read() && reader.TokenType == BencodeTokenType.String)
                {
                    switch (Encoding.ASCII.GetString(reader.ValueSpan))
                    {
                        case "length":
                            length = ReadInteger(ref reader, "info.files[].length");
                            break;
                        case "attr":
                            reader.ReadExpect(BencodeTokenType.String, "info.files[].attr");
                            pad = reader.ValueSpan.Contains((byte)'p');
                            break;
                        default:
                            reader.Skip();
                            break;
                    }
                }

                if (length is not { } l || l < 0)
                {
                    throw Invalid("an entry of info.files has no valid 'length'.");
                }

                if (pad)
                {
                    if (realFiles == 0)
                    {
                        throw Invalid("info.files starts with a pad file; a BlockTorrent image is one file at offset 0.");
                    }

                    result.PaddingLength += l;
                }
                else if (l > 0 || realFiles == 0)
                {
                    if (++realFiles > 1 || result.PaddingLength > 0)
                    {
                        throw Invalid("info.files lists more than one file; a BlockTorrent image is exactly one file (multi-file torrents are not supported).");
                    }

                    result.ImageLength = l;
                }
                else
                {
                    throw Invalid("info.files lists more than one file; a BlockTorrent image is exactly one file (multi-file torrents are not supported).");
                }
            }

            if (realFiles == 0)
            {
                throw Invalid("info.files lists no file.");
            }

            return result;
        }
    }

    /// <summary>A BEP 52 file tree, walked to count its files and keep the (single) file's length and root.</summary>
    private sealed class FileTree
    {
        private const int MaxDepth = 32;

        public int FileCount { get; private set; }

        public long Length { get; private set; }

        public byte[]? PiecesRoot { get; private set; }

        // The reader is on the StartDictionary of a directory node.
        public void Read(ref BencodeReader reader, int depth)
        {
            if (depth > MaxDepth)
            {
                reader.ThrowHere($"the file tree is nested deeper than {MaxDepth} levels");
            }

            bool isFile = false;
            int entries = 0;
            while (reader.Read() && reader.TokenType == BencodeTokenType.String)
            {
                entries++;
                if (reader.ValueSpan.IsEmpty)
                {
                    isFile = true;
                    ReadFile(ref reader);
                }
                else if (isFile)
                {
                    reader.ThrowHere("a file tree node is both a file and a directory");
                }
                else
                {
                    reader.ReadExpect(BencodeTokenType.StartDictionary, "a file tree entry");
                    Read(ref reader, depth + 1);
                }
            }

            if (entries == 0 && depth > 0)
            {
                throw Invalid("the file tree holds an empty directory.");
            }
        }

        private void ReadFile(ref BencodeReader reader)
        {
            FileCount++;
            long? length = null;
            byte[]? root = null;
            reader.ReadExpect(BencodeTokenType.StartDictionary, "a file tree file entry");
            while (reader.Read() && reader.TokenType == BencodeTokenType.String)
            {
                switch (Encoding.ASCII.GetString(reader.ValueSpan))
                {
                    case "length":
                        length = ReadInteger(ref reader, "a file's length");
                        break;
                    case "pieces root":
                        reader.ReadExpect(BencodeTokenType.String, "a file's pieces root");
                        if (reader.ValueSpan.Length != SHA256.HashSizeInBytes)
                        {
                            reader.ThrowHere($"a pieces root is {reader.ValueSpan.Length} bytes, not 32");
                        }

                        root = reader.ValueSpan.ToArray();
                        break;
                    default:
                        reader.Skip();
                        break;
                }
            }

            if (length is not { } l || l < 0)
            {
                throw Invalid("a file in the file tree has no valid 'length'.");
            }

            if (l > 0 && root is null)
            {
                throw Invalid("a non-empty file in the file tree has no 'pieces root'.");
            }

            if (l == 0 && root is not null)
            {
                throw Invalid("an empty file in the file tree has a 'pieces root'.");
            }

            Length = l;
            PiecesRoot = root;
        }
    }
}

using System.Buffers;
using System.Numerics;
using BlockTorrent.Manifest;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm;

/// <summary>
/// Fetches a v2 file's piece layer from one peer with BEP 52 hash requests, in chunks of at most
/// <see cref="MetadataFetcher.MaxHashesPerRequest"/> hashes, each with the uncle hashes up to the pieces root, so
/// every chunk is proven against the root (from the verified info dictionary) before it is kept.
/// </summary>
internal sealed class LayerFetch
{
    private readonly byte[] _root;
    private readonly int _pieceHeight;
    private readonly int _treeHeight;
    private readonly int _pieceCount;
    private readonly int _width;
    private HashRequest _outstanding;
    private int _next;

    private LayerFetch(byte[] root, int pieceHeight, int pieceCount)
    {
        _root = root;
        _pieceHeight = pieceHeight;
        _pieceCount = pieceCount;
        _width = (int)MerkleTree.RoundUpToPowerOfTwo(pieceCount);
        _treeHeight = pieceHeight + BitOperations.Log2((uint)_width);
        Layer = new byte[pieceCount * MerkleTree.HashSize];
    }

    /// <summary>What the fetch needs next.</summary>
    public enum Step
    {
        /// <summary>A request is out; wait for its answer.</summary>
        Pending,

        /// <summary>The whole layer is known and proven.</summary>
        Complete,

        /// <summary>The peer's answer does not prove against the pieces root.</summary>
        Invalid,
    }

    /// <summary>Gets the piece layer (32 bytes per piece), complete once <see cref="Step.Complete"/> was returned.</summary>
    public byte[] Layer { get; }

    /// <summary>Creates a fetch for a verified info dictionary whose torrent needs its piece layer, or returns null.</summary>
    /// <param name="info">The info dictionary (already checked against the info-hash).</param>
    /// <param name="required">Whether the torrent cannot verify pieces without the layer (v2 only).</param>
    /// <returns>The fetch, or <see langword="null"/> when there is no layer to fetch (v1, one piece, or not required).</returns>
    public static LayerFetch? For(byte[] info, bool required)
    {
        TorrentInfo parsed;
        try
        {
            parsed = TorrentInfo.Parse(info);
        }
        catch (Exception e) when (e is InvalidTorrentException or Bencode.BencodeException)
        {
            return null; // the manifest build reports what is wrong with it
        }

        return required && parsed.PiecesRoot is { } root && parsed.PieceCount > 1
            ? new LayerFetch(root, BitOperations.Log2((uint)(parsed.PieceLength / MerkleTree.BlockSize)), parsed.PieceCount)
            : null;
    }

    /// <summary>Gives the next hash request to send, or says the layer is complete.</summary>
    /// <param name="request">The request to send, when <see cref="Step.Pending"/> is returned.</param>
    /// <returns><see cref="Step.Pending"/> or <see cref="Step.Complete"/>.</returns>
    public Step Next(out HashRequest request)
    {
        if (_next >= _pieceCount)
        {
            request = default;
            return Step.Complete;
        }

        // Chunks start at multiples of the chunk size; the last one is the rest of the padded layer.
        int length = Math.Min(MetadataFetcher.MaxHashesPerRequest, _width - _next);
        int proofLayers = _treeHeight - _pieceHeight - 1;
        request = _outstanding = new HashRequest(Sha256Hash.From(_root), _pieceHeight, _next, length, proofLayers);
        return Step.Pending;
    }

    /// <summary>Checks a hashes message against the outstanding request and the pieces root, keeps it, and asks for more.</summary>
    /// <param name="answer">The request fields the message repeats.</param>
    /// <param name="hashes">The base-layer hashes, then the uncles.</param>
    /// <param name="request">The next request to send, when <see cref="Step.Pending"/> is returned.</param>
    /// <returns>What happens next.</returns>
    public Step OnHashes(HashRequest answer, ReadOnlySequence<byte> hashes, out HashRequest request)
    {
        request = default;
        if (!answer.Equals(_outstanding) || hashes.Length > (answer.Length + _treeHeight) * (long)MerkleTree.HashSize)
        {
            return Step.Invalid;
        }

        byte[] bytes = hashes.ToArray();
        if (!MerkleTree.VerifyHashes(_root, _treeHeight, _pieceHeight, answer.Index, answer.Length, bytes))
        {
            return Step.Invalid;
        }

        int count = Math.Min(answer.Length, _pieceCount - answer.Index);
        bytes.AsSpan(0, count * MerkleTree.HashSize).CopyTo(Layer.AsSpan(answer.Index * MerkleTree.HashSize));
        _next = answer.Index + answer.Length;
        return Next(out request);
    }
}

using System.Buffers;
using BlockTorrent.Manifest;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm.Extensions;

/// <summary>
/// Fetches the BEP 52 leaf hashes of a piece from a peer: one hash request for the piece's whole subtree (layer 0,
/// every leaf of the piece, no uncles), whose answer is kept only once it hashes up to the piece's entry in our
/// verified piece layer. A peer answering with leaves that do not prove is dropped, as for a piece that fails; a
/// reject, or the peer leaving, reports the piece without leaves so the caller can ask another.
/// </summary>
/// <remarks>
/// At most <see cref="MaxOutstandingPerPeer"/> requests are out to one peer; an answer we did not ask for is ignored
/// before anything is copied from it.
/// </remarks>
internal sealed class LeafHashFetch : PeerExtension
{
    /// <summary>The extension's name in the registry (BEP 52's messages are core messages, not advertised).</summary>
    public const string ExtensionName = "bep52_leaves";

    /// <summary>The most leaf-hash requests out to one peer at a time.</summary>
    public const int MaxOutstandingPerPeer = 4;

    private readonly TorrentManifest _manifest;
    private readonly Action<IExtensionPeer, int, LeafHashes?> _onLeaves;
    private readonly Dictionary<IExtensionPeer, List<HashRequest>> _outstanding = new(ReferenceEqualityComparer.Instance);

    /// <summary>Initializes a new instance of the <see cref="LeafHashFetch"/> class.</summary>
    /// <param name="manifest">The manifest whose piece layer proves the leaves.</param>
    /// <param name="onLeaves">
    /// Takes a piece's proven leaves from a peer, or null when the peer rejected the request or left (called on the
    /// peer's receive loop, or under the swarm's lock when it left).
    /// </param>
    public LeafHashFetch(TorrentManifest manifest, Action<IExtensionPeer, int, LeafHashes?> onLeaves)
        : base(ExtensionName, advertised: false)
    {
        _manifest = manifest;
        _onLeaves = onLeaves;
    }

    /// <inheritdoc/>
    public override ReadOnlySpan<MessageId> CoreMessages => [MessageId.Hashes, MessageId.HashReject];

    /// <summary>Gets a value indicating whether the manifest's pieces have leaves to fetch (v2 or hybrid, a known piece layer, two or more pieces of two or more blocks).</summary>
    public bool Applies => _manifest.HasPieceLayer && _manifest.PieceCount > 1 && _manifest.LeavesPerPiece > 1;

    /// <summary>Asks a peer for a piece's leaf hashes.</summary>
    /// <param name="peer">The peer (it should hold the piece).</param>
    /// <param name="piece">The piece.</param>
    /// <returns><see langword="false"/> when the manifest has no leaves to fetch, the piece is out of range, or the peer has its fill of requests.</returns>
    public bool TryRequest(IExtensionPeer peer, int piece)
    {
        ArgumentNullException.ThrowIfNull(peer);
        if (!Applies || (uint)piece >= (uint)_manifest.PieceCount)
        {
            return false;
        }

        HashRequest request = RequestFor(piece);
        lock (_outstanding)
        {
            if (!_outstanding.TryGetValue(peer, out List<HashRequest>? pending))
            {
                _outstanding[peer] = pending = new List<HashRequest>(MaxOutstandingPerPeer);
            }

            if (pending.Count >= MaxOutstandingPerPeer || pending.Contains(request))
            {
                return false;
            }

            if (!peer.TryQueueReply(this, new Outgoing(MessageId.HashRequest, Hash: request), MaxOutstandingPerPeer))
            {
                return false;
            }

            pending.Add(request);
            return true;
        }
    }

    /// <inheritdoc/>
    public override string? OnMessage(IExtensionPeer peer, PeerMessage message)
    {
        HashRequest answer = message.Hashes;
        lock (_outstanding)
        {
            if (!_outstanding.TryGetValue(peer, out List<HashRequest>? pending) || !pending.Remove(answer))
            {
                return null; // not ours: a late answer, or one to a request of the metadata fetch
            }
        }

        int piece = answer.Index / _manifest.LeavesPerPiece;
        if (message.Id == MessageId.HashReject)
        {
            _onLeaves(peer, piece, null);
            return null;
        }

        int width = _manifest.LeavesPerPiece;
        LeafHashes? leaves = message.Payload.Length == width * (long)MerkleTree.HashSize
            ? LeafHashes.TryProve(_manifest.PieceLayer.Slice(piece * MerkleTree.HashSize, MerkleTree.HashSize), width, _manifest.GetPieceSize(piece), message.Payload.ToArray())
            : null;
        if (leaves is null)
        {
            return "leaf hashes that do not prove against the piece";
        }

        _onLeaves(peer, piece, leaves);
        return null;
    }

    /// <inheritdoc/>
    public override void OnPeerClosed(IExtensionPeer peer)
    {
        List<HashRequest>? pending;
        lock (_outstanding)
        {
            _outstanding.Remove(peer, out pending);
        }

        foreach (HashRequest request in pending ?? [])
        {
            _onLeaves(peer, request.Index / _manifest.LeavesPerPiece, null);
        }
    }

    private HashRequest RequestFor(int piece) =>
        new(Sha256Hash.From(_manifest.PiecesRoot), 0, piece * _manifest.LeavesPerPiece, _manifest.LeavesPerPiece, 0);
}

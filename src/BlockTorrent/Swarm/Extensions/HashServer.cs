using System.Buffers;
using BlockTorrent.Manifest;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm.Extensions;

/// <summary>
/// BEP 52 hash requests answered from our piece layer, and leaf hashes (layer 0) from the piece they lie in when we
/// hold it. A request is queued as it is (no memory held) and answered by the send loop when it gets to it: the
/// hashes and their proof, or a hash reject when the request is invalid, names another file, asks for more than
/// <see cref="MaxHashesServed"/> hashes, or asks for leaf hashes of more than one piece or of a piece we lack. The
/// request's numbers are checked before anything is sized by them.
/// </summary>
internal sealed class HashServer : PeerExtension
{
    /// <summary>The extension's name in the registry (BEP 52's messages are core messages, not advertised).</summary>
    public const string ExtensionName = "bep52_hashes";

    /// <summary>The most base-layer hashes served in one hashes message: 8192, libtorrent's own limit (256 KiB of hashes).</summary>
    public const int MaxHashesServed = 8192;

    private const int MaxProofLayers = 64;

    // Hash requests waiting for the send loop; a peer that queues more is flooding us.
    private const int MaxPendingReplies = 16;

    private readonly TorrentManifest _manifest;
    private readonly Func<int, CancellationToken, ValueTask<LeafHashes?>>? _leavesOf;

    /// <summary>Initializes a new instance of the <see cref="HashServer"/> class.</summary>
    /// <param name="manifest">The manifest whose piece layer is served.</param>
    /// <param name="leavesOf">
    /// The leaf hashes of a piece index (already checked against the manifest), or null when we do not hold the piece;
    /// when omitted, leaf hashes are rejected.
    /// </param>
    public HashServer(TorrentManifest manifest, Func<int, CancellationToken, ValueTask<LeafHashes?>>? leavesOf = null)
        : base(ExtensionName, advertised: false)
    {
        _manifest = manifest;
        _leavesOf = leavesOf;
    }

    /// <inheritdoc/>
    public override ReadOnlySpan<MessageId> CoreMessages => [MessageId.HashRequest];

    /// <inheritdoc/>
    public override string? OnMessage(IExtensionPeer peer, PeerMessage message) =>
        peer.TryQueueReply(this, new Outgoing(MessageId.Hashes, Hash: message.Hashes), MaxPendingReplies) ? null : "too many hash requests at once";

    /// <inheritdoc/>
    public override ValueTask<int> WriteReplyAsync(IBufferWriter<byte> output, Outgoing reply, CancellationToken cancellationToken)
    {
        HashRequest request = reply.Hash;
        Sha256Hash root = request.PiecesRoot;

        // The root first: a v1 manifest has none and no leaves per piece to divide by.
        return request.BaseLayer == 0 && _leavesOf is not null && _manifest.PieceCount > 1 && _manifest.PiecesRoot.SequenceEqual(root)
            && _manifest.LeavesPerPiece > 0 && request.Length is > 0 and <= MaxHashesServed && request.Index >= 0
            && request.Index / _manifest.LeavesPerPiece < _manifest.PieceCount
            ? WriteLeavesAsync(output, request, cancellationToken)
            : ValueTask.FromResult(WriteReply(output, reply));
    }

    /// <inheritdoc/>
    public override int WriteReply(IBufferWriter<byte> output, in Outgoing reply)
    {
        HashRequest request = reply.Hash;
        Sha256Hash root = request.PiecesRoot;
        if (request.Length <= MaxHashesServed && request.ProofLayers <= MaxProofLayers && _manifest.PiecesRoot.SequenceEqual(root))
        {
            // Uncles come one per layer above the requested subtree, fewer than the tree's height (under 64).
            int size = (request.Length + MaxProofLayers) * Sha256Hash.Size;
            byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
            try
            {
                if (_manifest.TryGetHashes(request.BaseLayer, request.Index, request.Length, request.ProofLayers, buffer.AsSpan(0, size), out int written))
                {
                    MessageWriter.WriteHashes(output, request, buffer.AsSpan(0, written));
                    return 5 + HashRequest.EncodedSize + written;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return WriteReject(output, request);
    }

    private static int WriteReject(IBufferWriter<byte> output, in HashRequest request)
    {
        MessageWriter.WriteHashRequest(output, MessageId.HashReject, request);
        return 5 + HashRequest.EncodedSize;
    }

    private async ValueTask<int> WriteLeavesAsync(IBufferWriter<byte> output, HashRequest request, CancellationToken cancellationToken)
    {
        if (await _leavesOf!(request.Index / _manifest.LeavesPerPiece, cancellationToken).ConfigureAwait(false) is not { } leaves)
        {
            return WriteReject(output, request);
        }

        int size = (request.Length + MaxProofLayers) * Sha256Hash.Size;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            if (request.ProofLayers <= MaxProofLayers
                && _manifest.TryGetLeafHashes(request.Index, request.Length, request.ProofLayers, leaves.Leaves, buffer.AsSpan(0, size), out int written))
            {
                MessageWriter.WriteHashes(output, request, buffer.AsSpan(0, written));
                return 5 + HashRequest.EncodedSize + written;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return WriteReject(output, request);
    }
}

using System.Buffers;
using BlockTorrent.Manifest;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm.Extensions;

/// <summary>
/// BEP 52 hash requests answered from our piece layer. A request is queued as it is (no memory held) and answered
/// by the send loop when it gets to it: the hashes and their proof, or a hash reject when the request is invalid,
/// names another file, or asks for more than <see cref="MaxHashesServed"/> hashes (or leaf hashes, which need the
/// data). The request's numbers are checked before anything is sized by them.
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

    /// <summary>Initializes a new instance of the <see cref="HashServer"/> class.</summary>
    /// <param name="manifest">The manifest whose piece layer is served.</param>
    public HashServer(TorrentManifest manifest)
        : base(ExtensionName, advertised: false)
    {
        _manifest = manifest;
    }

    /// <inheritdoc/>
    public override ReadOnlySpan<MessageId> CoreMessages => [MessageId.HashRequest];

    /// <inheritdoc/>
    public override string? OnMessage(IExtensionPeer peer, PeerMessage message) =>
        peer.TryQueueReply(this, new Outgoing(MessageId.Hashes, Hash: message.Hashes), MaxPendingReplies) ? null : "too many hash requests at once";

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

        MessageWriter.WriteHashRequest(output, MessageId.HashReject, request);
        return 5 + HashRequest.EncodedSize;
    }
}

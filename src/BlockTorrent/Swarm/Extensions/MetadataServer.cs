using System.Buffers;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm.Extensions;

/// <summary>
/// BEP 9 (<c>ut_metadata</c>) for a swarm that has the info dictionary: answers each request with the 16 KiB piece
/// asked for, or a reject past its end. Data and rejects only matter to a client fetching metadata, and are ignored.
/// </summary>
internal sealed class MetadataServer : PeerExtension
{
    // ut_metadata pieces (16 KiB each, held until sent) a peer can make us queue faster than it reads them.
    private const int MaxPendingReplies = 16;

    private readonly ReadOnlyMemory<byte> _info;

    /// <summary>Initializes a new instance of the <see cref="MetadataServer"/> class.</summary>
    /// <param name="info">The info dictionary served.</param>
    public MetadataServer(ReadOnlyMemory<byte> info)
        : base(ExtensionHandshake.UtMetadataName, advertised: true)
    {
        _info = info;
    }

    /// <inheritdoc/>
    public override string? OnMessage(IExtensionPeer peer, PeerMessage message)
    {
        if (!MetadataMessage.TryParse(message.Payload, out MetadataMessage request))
        {
            return "an invalid ut_metadata message";
        }

        byte remoteId = peer.RemoteExtensions?.IdFor(Name) ?? 0;
        if (request.Type != MetadataMessageType.Request || remoteId == 0)
        {
            return null;
        }

        var reply = new ArrayBufferWriter<byte>(MetadataMessage.PieceSize + 64);
        long start = (long)request.Piece * MetadataMessage.PieceSize;
        if (start >= _info.Length)
        {
            MetadataMessage.Write(reply, MetadataMessageType.Reject, request.Piece, 0, default);
        }
        else
        {
            ReadOnlySpan<byte> slice = _info.Span.Slice((int)start, Math.Min(MetadataMessage.PieceSize, _info.Length - (int)start));
            MetadataMessage.Write(reply, MetadataMessageType.Data, request.Piece, _info.Length, slice);
        }

        var answer = new Outgoing(MessageId.Extended, Payload: reply.WrittenSpan.ToArray(), ExtensionId: remoteId);
        return peer.TryQueueReply(this, answer, MaxPendingReplies) ? null : "asks for metadata faster than it reads the answers";
    }
}

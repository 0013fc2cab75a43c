using System.Buffers;
using BlockTorrent.Swarm.Extensions;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm;

/// <summary>
/// A message waiting in a session's send queue. Piece messages carry only the block: the send loop reads the bytes
/// from the read cache when it gets to them, so queued uploads hold no memory.
/// </summary>
/// <param name="Id">The message id (ignored for a keep-alive).</param>
/// <param name="Block">The block or piece index the message names.</param>
/// <param name="Payload">The variable part of a bitfield or extended message.</param>
/// <param name="ExtensionId">The extended message id.</param>
/// <param name="KeepAlive">Whether this is a keep-alive.</param>
/// <param name="Hash">The hash request a hashes message (or its hash reject) answers.</param>
/// <param name="Extension">For a reply an extension queued, the extension: its waiting replies are counted (a peer that asks faster than it reads is dropped), and it writes a reply that is not an extended message.</param>
internal readonly record struct Outgoing(MessageId Id, BlockRequest Block = default, byte[]? Payload = null, byte ExtensionId = 0, bool KeepAlive = false, HashRequest Hash = default, PeerExtension? Extension = null)
{
    /// <summary>
    /// Writes a message that carries all it needs (everything but a piece, whose bytes are read when it is sent, and
    /// a hashes message, which its extension writes).
    /// </summary>
    /// <param name="output">The connection's output.</param>
    /// <returns>The bytes written.</returns>
    public int WriteTo(IBufferWriter<byte> output)
    {
        if (KeepAlive)
        {
            MessageWriter.WriteKeepAlive(output);
            return 4;
        }

        switch (Id)
        {
            case MessageId.Have:
            case MessageId.AllowedFast:
            case MessageId.SuggestPiece:
                MessageWriter.WritePieceIndex(output, Id, Block.Piece);
                return 9;
            case MessageId.RejectRequest:
            case MessageId.Request:
            case MessageId.Cancel:
                MessageWriter.WriteBlock(output, Id, Block);
                return 17;
            case MessageId.HashRequest:
                MessageWriter.WriteHashRequest(output, Id, Hash);
                return 5 + HashRequest.EncodedSize;
            case MessageId.Bitfield:
                MessageWriter.WriteBitfield(output, Payload);
                return 5 + Payload!.Length;
            case MessageId.Extended:
                MessageWriter.WriteExtended(output, ExtensionId, Payload);
                return 6 + Payload!.Length;
            default:
                MessageWriter.WriteSimple(output, Id);
                return 5;
        }
    }
}

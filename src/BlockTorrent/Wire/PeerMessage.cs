using System.Buffers;

namespace BlockTorrent.Wire;

/// <summary>
/// One parsed peer wire message. A connection owns one instance and the reader overwrites it for every message,
/// so parsing allocates nothing. Only the fields that the message's <see cref="Id"/> carries are meaningful.
/// </summary>
/// <remarks>
/// <see cref="Payload"/> is a slice of the reader's buffer: it is valid only until the buffer is advanced past the
/// message (that is, during the callback that receives it). Copy what must outlive the callback.
/// </remarks>
internal sealed class PeerMessage
{
    /// <summary>Gets the message id.</summary>
    public MessageId Id { get; internal set; }

    /// <summary>
    /// Gets the piece index of a have, request, piece, cancel, suggest piece, reject request or allowed fast message.
    /// </summary>
    public int Piece { get; internal set; }

    /// <summary>Gets the block offset of a request, piece, cancel or reject request message.</summary>
    public int Offset { get; internal set; }

    /// <summary>
    /// Gets the block length of a request, cancel or reject request message, or of the block a piece message carries.
    /// </summary>
    public int Length { get; internal set; }

    /// <summary>Gets the block named by a request, piece, cancel or reject request message.</summary>
    public BlockRequest Block => new(Piece, Offset, Length);

    /// <summary>Gets the DHT port of a port message.</summary>
    public ushort Port { get; internal set; }

    /// <summary>Gets the extension id of an extended message: 0 for the extended handshake, else one we advertised.</summary>
    public byte ExtensionId { get; internal set; }

    /// <summary>Gets the fields of a hash request, hashes or hash reject message.</summary>
    public HashRequest Hashes { get; internal set; }

    /// <summary>
    /// Gets the variable part: a bitfield's bits, a piece message's block, an extended message's payload (after the
    /// extension id), or a hashes message's hashes. Empty for other messages. Valid only until the buffer moves on.
    /// </summary>
    public ReadOnlySequence<byte> Payload { get; internal set; }
}

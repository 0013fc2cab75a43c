using System.Buffers;
using System.Buffers.Binary;

namespace BlockTorrent.Wire;

/// <summary>
/// Encodes peer wire messages into an <see cref="IBufferWriter{T}"/> (a <see cref="System.IO.Pipelines.PipeWriter"/>
/// on a connection) with <see cref="BinaryPrimitives"/>. Nothing is allocated: fixed messages are written straight
/// into the writer's memory, and variable parts are copied from the caller's span in writer-sized chunks.
/// </summary>
/// <remarks>The writer is not flushed; the caller flushes once per batch of messages.</remarks>
internal static class MessageWriter
{
    /// <summary>Writes a keep-alive: a zero length prefix.</summary>
    /// <param name="writer">The destination.</param>
    public static void WriteKeepAlive(IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Span<byte> span = writer.GetSpan(4);
        BinaryPrimitives.WriteUInt32BigEndian(span, 0);
        writer.Advance(4);
    }

    /// <summary>
    /// Writes a message with no fields: choke, unchoke, interested, not interested, have all or have none.
    /// </summary>
    /// <param name="writer">The destination.</param>
    /// <param name="id">The message id.</param>
    /// <exception cref="ArgumentException"><paramref name="id"/> is a message that has fields.</exception>
    public static void WriteSimple(IBufferWriter<byte> writer, MessageId id)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (id is not (MessageId.Choke or MessageId.Unchoke or MessageId.Interested or MessageId.NotInterested or MessageId.HaveAll or MessageId.HaveNone))
        {
            throw new ArgumentException($"{id} is not a message without fields.", nameof(id));
        }

        Span<byte> span = writer.GetSpan(5);
        BinaryPrimitives.WriteUInt32BigEndian(span, 1);
        span[4] = (byte)id;
        writer.Advance(5);
    }

    /// <summary>Writes a message whose one field is a piece index: have, suggest piece or allowed fast.</summary>
    /// <param name="writer">The destination.</param>
    /// <param name="id">The message id.</param>
    /// <param name="piece">The piece index.</param>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not a one-piece message.</exception>
    public static void WritePieceIndex(IBufferWriter<byte> writer, MessageId id, int piece)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (id is not (MessageId.Have or MessageId.SuggestPiece or MessageId.AllowedFast))
        {
            throw new ArgumentException($"{id} is not a message carrying one piece index.", nameof(id));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        Span<byte> span = writer.GetSpan(9);
        BinaryPrimitives.WriteUInt32BigEndian(span, 5);
        span[4] = (byte)id;
        BinaryPrimitives.WriteInt32BigEndian(span[5..], piece);
        writer.Advance(9);
    }

    /// <summary>Writes a message naming a block: request, cancel or reject request.</summary>
    /// <param name="writer">The destination.</param>
    /// <param name="id">The message id.</param>
    /// <param name="block">The block.</param>
    /// <exception cref="ArgumentException"><paramref name="id"/> is not a block message.</exception>
    public static void WriteBlock(IBufferWriter<byte> writer, MessageId id, BlockRequest block)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (id is not (MessageId.Request or MessageId.Cancel or MessageId.RejectRequest))
        {
            throw new ArgumentException($"{id} is not a message naming a block.", nameof(id));
        }

        Span<byte> span = writer.GetSpan(17);
        BinaryPrimitives.WriteUInt32BigEndian(span, 13);
        span[4] = (byte)id;
        BinaryPrimitives.WriteInt32BigEndian(span[5..], block.Piece);
        BinaryPrimitives.WriteInt32BigEndian(span[9..], block.Offset);
        BinaryPrimitives.WriteInt32BigEndian(span[13..], block.Length);
        writer.Advance(17);
    }

    /// <summary>Writes a bitfield message.</summary>
    /// <param name="writer">The destination.</param>
    /// <param name="bitfield">The bits, piece 0 in the high bit of byte 0.</param>
    public static void WriteBitfield(IBufferWriter<byte> writer, ReadOnlySpan<byte> bitfield)
    {
        WriteHeader(writer, MessageId.Bitfield, 1 + bitfield.Length);
        writer.Write(bitfield);
    }

    /// <summary>Writes a piece message: the header, then the block copied from <paramref name="block"/>.</summary>
    /// <param name="writer">The destination.</param>
    /// <param name="piece">The piece index.</param>
    /// <param name="offset">The block's offset in the piece.</param>
    /// <param name="block">The block's bytes.</param>
    public static void WritePiece(IBufferWriter<byte> writer, int piece, int offset, ReadOnlySpan<byte> block)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Span<byte> span = writer.GetSpan(13);
        BinaryPrimitives.WriteInt32BigEndian(span, 9 + block.Length);
        span[4] = (byte)MessageId.Piece;
        BinaryPrimitives.WriteInt32BigEndian(span[5..], piece);
        BinaryPrimitives.WriteInt32BigEndian(span[9..], offset);
        writer.Advance(13);
        writer.Write(block);
    }

    /// <summary>Writes a port message (BEP 5: the sender's DHT port).</summary>
    /// <param name="writer">The destination.</param>
    /// <param name="port">The port.</param>
    public static void WritePort(IBufferWriter<byte> writer, ushort port)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Span<byte> span = writer.GetSpan(7);
        BinaryPrimitives.WriteUInt32BigEndian(span, 3);
        span[4] = (byte)MessageId.Port;
        BinaryPrimitives.WriteUInt16BigEndian(span[5..], port);
        writer.Advance(7);
    }

    /// <summary>Writes an extended message (BEP 10) with an already encoded payload.</summary>
    /// <param name="writer">The destination.</param>
    /// <param name="extensionId">0 for the extended handshake, else the id the remote peer gave the extension.</param>
    /// <param name="payload">The payload that follows the extension id.</param>
    public static void WriteExtended(IBufferWriter<byte> writer, byte extensionId, ReadOnlySpan<byte> payload)
    {
        WriteExtendedHeader(writer, extensionId, payload.Length);
        writer.Write(payload);
    }

    /// <summary>
    /// Writes the header of an extended message whose <paramref name="payloadLength"/> bytes of payload the caller
    /// writes next.
    /// </summary>
    /// <param name="writer">The destination.</param>
    /// <param name="extensionId">The extension id.</param>
    /// <param name="payloadLength">The length of the payload that will follow.</param>
    public static void WriteExtendedHeader(IBufferWriter<byte> writer, byte extensionId, int payloadLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(payloadLength);
        WriteHeader(writer, MessageId.Extended, 2 + payloadLength);
        Span<byte> span = writer.GetSpan(1);
        span[0] = extensionId;
        writer.Advance(1);
    }

    /// <summary>Writes a BEP 52 hash request or hash reject message.</summary>
    /// <param name="writer">The destination.</param>
    /// <param name="id"><see cref="MessageId.HashRequest"/> or <see cref="MessageId.HashReject"/>.</param>
    /// <param name="request">The fields.</param>
    /// <exception cref="ArgumentException"><paramref name="id"/> is neither.</exception>
    public static void WriteHashRequest(IBufferWriter<byte> writer, MessageId id, in HashRequest request)
    {
        if (id is not (MessageId.HashRequest or MessageId.HashReject))
        {
            throw new ArgumentException($"{id} is not a hash request or hash reject.", nameof(id));
        }

        WriteHashFields(writer, id, request, 0);
    }

    /// <summary>Writes a BEP 52 hashes message: the request's fields, then the hashes.</summary>
    /// <param name="writer">The destination.</param>
    /// <param name="request">The request being answered.</param>
    /// <param name="hashes">The base-layer hashes followed by the uncle hashes, 32 bytes each.</param>
    /// <exception cref="ArgumentException"><paramref name="hashes"/> is not a whole number of hashes.</exception>
    public static void WriteHashes(IBufferWriter<byte> writer, in HashRequest request, ReadOnlySpan<byte> hashes)
    {
        if (hashes.Length % Sha256Hash.Size != 0)
        {
            throw new ArgumentException($"Hashes are {Sha256Hash.Size} bytes each; {hashes.Length} bytes is not a whole number of them.", nameof(hashes));
        }

        WriteHashFields(writer, MessageId.Hashes, request, hashes.Length);
        writer.Write(hashes);
    }

    private static void WriteHashFields(IBufferWriter<byte> writer, MessageId id, in HashRequest request, int extra)
    {
        WriteHeader(writer, id, 1 + HashRequest.EncodedSize + extra);
        Span<byte> span = writer.GetSpan(HashRequest.EncodedSize);
        Sha256Hash root = request.PiecesRoot;
        ((ReadOnlySpan<byte>)root).CopyTo(span);
        BinaryPrimitives.WriteInt32BigEndian(span[32..], request.BaseLayer);
        BinaryPrimitives.WriteInt32BigEndian(span[36..], request.Index);
        BinaryPrimitives.WriteInt32BigEndian(span[40..], request.Length);
        BinaryPrimitives.WriteInt32BigEndian(span[44..], request.ProofLayers);
        writer.Advance(HashRequest.EncodedSize);
    }

    private static void WriteHeader(IBufferWriter<byte> writer, MessageId id, int length)
    {
        ArgumentNullException.ThrowIfNull(writer);
        Span<byte> span = writer.GetSpan(5);
        BinaryPrimitives.WriteInt32BigEndian(span, length);
        span[4] = (byte)id;
        writer.Advance(5);
    }
}

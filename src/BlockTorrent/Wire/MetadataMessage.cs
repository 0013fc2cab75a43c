using System.Buffers;
using BlockTorrent.Bencode;

namespace BlockTorrent.Wire;

/// <summary>
/// A BEP 9 ut_metadata message: a request for, a piece of, or a refusal of one 16 KiB piece of the info dictionary.
/// </summary>
/// <param name="Type">The message type.</param>
/// <param name="Piece">The metadata piece index.</param>
/// <param name="TotalSize">The info dictionary's size in bytes (data messages only; else 0).</param>
/// <param name="Data">The piece's bytes (data messages only); valid only during the callback that receives it.</param>
internal readonly record struct MetadataMessage(MetadataMessageType Type, int Piece, int TotalSize, ReadOnlySequence<byte> Data)
{
    /// <summary>The size of a metadata piece: 16 KiB (the last one may be shorter).</summary>
    public const int PieceSize = 16 * 1024;

    /// <summary>
    /// The largest info dictionary the codec accepts in any message: 64 MiB. The fetcher's own limit
    /// (<c>DeployOptions.MaxMetadataSize</c>) is usually far lower.
    /// </summary>
    public const int MaxTotalSize = 64 * 1024 * 1024;

    /// <summary>Parses a ut_metadata payload (after the extension id byte): a dictionary, then a data piece's bytes.</summary>
    /// <param name="payload">The payload; the returned message's <see cref="Data"/> is a slice of it.</param>
    /// <param name="message">The message.</param>
    /// <returns><see langword="false"/> when the payload is not a valid ut_metadata message.</returns>
    public static bool TryParse(ReadOnlySequence<byte> payload, out MetadataMessage message)
    {
        message = default;

        // The dictionary is small; only a data piece's bytes follow it. Parse the first segment in place when it
        // holds the dictionary, else a bounded copy of the start.
        const int MaxDictionaryLength = 512;
        Span<byte> scratch = stackalloc byte[MaxDictionaryLength];
        int headLength = (int)Math.Min(payload.Length, MaxDictionaryLength);
        ReadOnlySpan<byte> head = payload.FirstSpan.Length >= headLength ? payload.FirstSpan[..headLength] : CopyHead(payload, scratch[..headLength]);

        var reader = new BencodeReader(head, BencodeReaderOptions.Lenient);
        long type = -1, piece = -1, totalSize = 0;
        if (!reader.TryReadStartDictionary())
        {
            return false;
        }

        while (reader.TryReadEntry(out ReadOnlySpan<byte> key))
        {
            if (reader.TokenType != BencodeTokenType.Integer)
            {
                if (!reader.TrySkip())
                {
                    return false;
                }
            }
            else if (key.SequenceEqual("msg_type"u8))
            {
                type = reader.IntegerValue;
            }
            else if (key.SequenceEqual("piece"u8))
            {
                piece = reader.IntegerValue;
            }
            else if (key.SequenceEqual("total_size"u8))
            {
                totalSize = reader.IntegerValue;
            }
        }

        if (reader.HasError || type is < 0 or > 2 || piece is < 0 or > MaxTotalSize / PieceSize)
        {
            return false;
        }

        ReadOnlySequence<byte> data = payload.Slice(reader.BytesConsumed);
        if (type == (long)MetadataMessageType.Data)
        {
            // The piece must be inside the announced size and exactly as long as that makes it.
            long expected = Math.Min(PieceSize, totalSize - (piece * PieceSize));
            if (totalSize is <= 0 or > MaxTotalSize || expected <= 0 || data.Length != expected)
            {
                return false;
            }
        }
        else
        {
            totalSize = 0;
            data = ReadOnlySequence<byte>.Empty;
        }

        message = new MetadataMessage((MetadataMessageType)type, (int)piece, (int)totalSize, data);
        return true;
    }

    /// <summary>Writes the payload (after the extension id byte): the dictionary, then for data the piece's bytes.</summary>
    /// <param name="writer">The destination.</param>
    /// <param name="type">The message type.</param>
    /// <param name="piece">The metadata piece index.</param>
    /// <param name="totalSize">The info dictionary's size (data messages only).</param>
    /// <param name="data">The piece's bytes (data messages only).</param>
    public static void Write(IBufferWriter<byte> writer, MetadataMessageType type, int piece, int totalSize, ReadOnlySpan<byte> data)
    {
        var e = new BencodeWriter(writer);
        e.WriteStartDictionary();
        e.WriteString("msg_type"u8);
        e.WriteInteger((int)type);
        e.WriteString("piece"u8);
        e.WriteInteger(piece);
        if (type == MetadataMessageType.Data)
        {
            e.WriteString("total_size"u8);
            e.WriteInteger(totalSize);
        }

        e.WriteEnd();
        if (type == MetadataMessageType.Data)
        {
            writer.Write(data);
        }
    }

    private static ReadOnlySpan<byte> CopyHead(ReadOnlySequence<byte> payload, Span<byte> destination)
    {
        payload.Slice(0, destination.Length).CopyTo(destination);
        return destination;
    }
}

using System.Buffers;
using System.Buffers.Binary;

namespace BlockTorrent.Wire;

/// <summary>
/// Parses peer wire messages (after the handshake) from a <see cref="ReadOnlySequence{T}"/>, as a
/// <see cref="System.IO.Pipelines.PipeReader"/> hands them out. Every message goes through one switch; the parsed
/// message is written into one reused <see cref="PeerMessage"/>, and variable parts are slices of the input, so
/// reading allocates nothing.
/// </summary>
/// <remarks>
/// The length prefix is checked against the message id before the body has arrived: a peer that declares a huge
/// message gets a <see cref="WireReadStatus.ProtocolError"/> at once, and nothing is buffered or allocated for it.
/// Malformed input never throws: it yields <see cref="WireReadStatus.ProtocolError"/> and an <see cref="Error"/>.
/// Not thread-safe: one reader per connection.
/// </remarks>
internal sealed class MessageReader
{
    /// <summary>The standard block size: 16 KiB.</summary>
    public const int BlockSize = 16 * 1024;

    /// <summary>The default cap on an extended message's payload: 1 MiB.</summary>
    public const int DefaultMaxExtensionMessageLength = 1024 * 1024;

    /// <summary>The default cap on the hashes in one BEP 52 hashes message: 8192 (a 128 MiB span of leaves).</summary>
    public const int DefaultMaxHashCount = 8192;

    // The longest fixed part of any message: length prefix, id and the 48 bytes of a hash request.
    private const int MaxHeaderSize = 4 + 1 + HashRequest.EncodedSize;

    private int _pieceCount;

    /// <summary>Gets the message the last successful <see cref="TryRead"/> parsed.</summary>
    public PeerMessage Current { get; } = new();

    /// <summary>
    /// Gets how many more bytes the message at the start of the buffer needs, after <see cref="TryRead"/> returned
    /// <see cref="WireReadStatus.NeedMoreData"/> with its length and id known and checked; 0 while they are not.
    /// </summary>
    public long MissingBytes { get; private set; }

    /// <summary>Gets how the peer broke the protocol, after <see cref="TryRead"/> returned <see cref="WireReadStatus.ProtocolError"/>.</summary>
    public WireError Error { get; private set; }

    /// <summary>
    /// Gets or sets the number of pieces in the torrent, or 0 while it is unknown (a magnet link before its
    /// metadata). When known, piece indices are checked and a bitfield must be exactly ⌈count / 8⌉ bytes with its
    /// spare bits clear.
    /// </summary>
    public int PieceCount
    {
        get => _pieceCount;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            _pieceCount = value;
        }
    }

    /// <summary>Gets or sets a value indicating whether both peers set the BEP 6 fast extension bit.</summary>
    public bool FastExtension { get; set; }

    /// <summary>Gets or sets a value indicating whether both peers set the BEP 10 extension protocol bit.</summary>
    public bool ExtensionProtocol { get; set; }

    /// <summary>Gets or sets the largest block a request or piece message may name. The default is 16 KiB.</summary>
    public int MaxBlockLength { get; set; } = BlockSize;

    /// <summary>Gets or sets the largest extended message payload accepted. The default is 1 MiB.</summary>
    public int MaxExtensionMessageLength { get; set; } = DefaultMaxExtensionMessageLength;

    /// <summary>Gets or sets the most hashes a BEP 52 hashes message may carry. The default is 8192.</summary>
    public int MaxHashCount { get; set; } = DefaultMaxHashCount;

    /// <summary>
    /// Gets the longest message (length prefix included) the current limits allow: what a buffer must be able to
    /// hold before this reader can make progress.
    /// </summary>
    public long MaxMessageSize
    {
        get
        {
            long bitfield = _pieceCount > 0 ? (_pieceCount + 7L) / 8 : MaxExtensionMessageLength;
            long max = Math.Max(9L + MaxBlockLength, 1L + bitfield);
            max = Math.Max(max, 2L + MaxExtensionMessageLength);
            max = Math.Max(max, 1L + HashRequest.EncodedSize + (Sha256Hash.Size * (long)MaxHashCount));
            return 4 + max;
        }
    }

    /// <summary>
    /// Parses the message at the start of <paramref name="buffer"/>. On <see cref="WireReadStatus.Message"/> and
    /// <see cref="WireReadStatus.KeepAlive"/>, <paramref name="buffer"/> is moved past the message; otherwise it is
    /// left as it was.
    /// </summary>
    /// <param name="buffer">The received bytes; on success, what follows the message.</param>
    /// <returns>What was found.</returns>
    public WireReadStatus TryRead(ref ReadOnlySequence<byte> buffer)
    {
        MissingBytes = 0;
        if (buffer.Length < 4)
        {
            return WireReadStatus.NeedMoreData;
        }

        // Copy the fixed part only when it straddles segments; in the common case it is read in place.
        Span<byte> scratch = stackalloc byte[MaxHeaderSize];
        int available = (int)Math.Min(buffer.Length, MaxHeaderSize);
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        scoped ReadOnlySpan<byte> header;
        if (first.Length >= available)
        {
            header = first[..available];
        }
        else
        {
            buffer.Slice(0, available).CopyTo(scratch);
            header = scratch[..available];
        }

        uint length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length == 0)
        {
            buffer = buffer.Slice(4);
            return WireReadStatus.KeepAlive;
        }

        if (length > MaxMessageSize - 4)
        {
            return Fail(WireError.MessageTooLong);
        }

        if (header.Length < 5)
        {
            return WireReadStatus.NeedMoreData;
        }

        var id = (MessageId)header[4];
        WireError error = CheckLength(id, (int)length);
        if (error != WireError.None)
        {
            return Fail(error);
        }

        if (buffer.Length < 4 + length)
        {
            MissingBytes = 4 + length - buffer.Length;
            return WireReadStatus.NeedMoreData;
        }

        // Every fixed part is now in 'header': CheckLength guaranteed length >= its size and header holds
        // min(buffer.Length, MaxHeaderSize) bytes.
        PeerMessage m = Current;
        m.Id = id;
        m.Payload = ReadOnlySequence<byte>.Empty;
        ReadOnlySpan<byte> body = header[5..];
        switch (id)
        {
            case MessageId.Choke:
            case MessageId.Unchoke:
            case MessageId.Interested:
            case MessageId.NotInterested:
            case MessageId.HaveAll:
            case MessageId.HaveNone:
                break;

            case MessageId.Have:
            case MessageId.SuggestPiece:
            case MessageId.AllowedFast:
                m.Piece = BinaryPrimitives.ReadInt32BigEndian(body);
                if (!IsPieceInRange(m.Piece))
                {
                    return Fail(WireError.PieceOutOfRange);
                }

                break;

            case MessageId.Request:
            case MessageId.Cancel:
            case MessageId.RejectRequest:
                m.Piece = BinaryPrimitives.ReadInt32BigEndian(body);
                m.Offset = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                m.Length = BinaryPrimitives.ReadInt32BigEndian(body[8..]);
                if (!IsPieceInRange(m.Piece))
                {
                    return Fail(WireError.PieceOutOfRange);
                }

                if (m.Offset < 0 || m.Length <= 0 || m.Length > MaxBlockLength)
                {
                    return Fail(WireError.InvalidBlock);
                }

                break;

            case MessageId.Piece:
                m.Piece = BinaryPrimitives.ReadInt32BigEndian(body);
                m.Offset = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                m.Length = (int)length - 9;
                if (!IsPieceInRange(m.Piece))
                {
                    return Fail(WireError.PieceOutOfRange);
                }

                if (m.Offset < 0)
                {
                    return Fail(WireError.InvalidBlock);
                }

                m.Payload = buffer.Slice(13, m.Length);
                break;

            case MessageId.Bitfield:
                m.Payload = buffer.Slice(5, length - 1);
                if (_pieceCount > 0 && !SpareBitsClear(m.Payload))
                {
                    return Fail(WireError.InvalidBitfield);
                }

                break;

            case MessageId.Port:
                m.Port = BinaryPrimitives.ReadUInt16BigEndian(body);
                break;

            case MessageId.Extended:
                m.ExtensionId = body[0];
                m.Payload = buffer.Slice(6, length - 2);
                break;

            case MessageId.HashRequest:
            case MessageId.Hashes:
            case MessageId.HashReject:
                m.Hashes = new HashRequest(
                    Sha256Hash.From(body[..Sha256Hash.Size]),
                    BinaryPrimitives.ReadInt32BigEndian(body[32..]),
                    BinaryPrimitives.ReadInt32BigEndian(body[36..]),
                    BinaryPrimitives.ReadInt32BigEndian(body[40..]),
                    BinaryPrimitives.ReadInt32BigEndian(body[44..]));
                if (m.Hashes.BaseLayer < 0 || m.Hashes.Index < 0 || m.Hashes.Length <= 0 || m.Hashes.ProofLayers < 0)
                {
                    return Fail(WireError.InvalidLength);
                }

                if (id == MessageId.Hashes)
                {
                    m.Payload = buffer.Slice(5 + HashRequest.EncodedSize, length - 1 - HashRequest.EncodedSize);
                }

                break;

            default:
                return Fail(WireError.UnknownMessageId);
        }

        Error = WireError.None;
        buffer = buffer.Slice(4 + length);
        return WireReadStatus.Message;
    }

    private WireError CheckLength(MessageId id, int length)
    {
        // 'length' counts the id byte and is at least 1 here.
        if (!FastExtension && id is MessageId.SuggestPiece or MessageId.AllowedFast or MessageId.HaveAll or MessageId.HaveNone or MessageId.RejectRequest)
        {
            return WireError.FastExtensionNotNegotiated;
        }

        if (!ExtensionProtocol && id == MessageId.Extended)
        {
            return WireError.ExtensionProtocolNotNegotiated;
        }

        int hashBytes = length - 1 - HashRequest.EncodedSize;
        return id switch
        {
            MessageId.Choke or MessageId.Unchoke or MessageId.Interested or MessageId.NotInterested
                or MessageId.HaveAll or MessageId.HaveNone => Expect(length == 1),
            MessageId.Have or MessageId.SuggestPiece or MessageId.AllowedFast => Expect(length == 5),
            MessageId.Request or MessageId.Cancel or MessageId.RejectRequest => Expect(length == 13),
            MessageId.Port => Expect(length == 3),
            MessageId.Bitfield when _pieceCount > 0 => Expect(length - 1 == (_pieceCount + 7) / 8, WireError.InvalidBitfield),
            MessageId.Bitfield => Expect(length > 1 && length - 1 <= MaxExtensionMessageLength),
            MessageId.Piece when length < 9 => WireError.InvalidLength,
            MessageId.Piece => Expect(length - 9 is > 0 and var block && block <= MaxBlockLength, WireError.InvalidBlock),
            MessageId.Extended => Expect(length >= 2 && length - 2 <= MaxExtensionMessageLength),
            MessageId.HashRequest or MessageId.HashReject => Expect(length == 1 + HashRequest.EncodedSize),
            MessageId.Hashes => Expect(hashBytes >= 0 && hashBytes % Sha256Hash.Size == 0 && hashBytes / Sha256Hash.Size <= MaxHashCount),
            _ => WireError.UnknownMessageId,
        };
    }

    private static WireError Expect(bool valid, WireError otherwise = WireError.InvalidLength) => valid ? WireError.None : otherwise;

    private bool IsPieceInRange(int piece) => piece >= 0 && (_pieceCount == 0 || piece < _pieceCount);

    private bool SpareBitsClear(ReadOnlySequence<byte> bitfield)
    {
        int spare = (8 - (_pieceCount % 8)) % 8;
        if (spare == 0)
        {
            return true;
        }

        ReadOnlySequence<byte> lastByte = bitfield.Slice(bitfield.Length - 1);
        byte last = lastByte.FirstSpan[0];
        return (last & ((1 << spare) - 1)) == 0;
    }

    private WireReadStatus Fail(WireError error)
    {
        Error = error;
        return WireReadStatus.ProtocolError;
    }
}

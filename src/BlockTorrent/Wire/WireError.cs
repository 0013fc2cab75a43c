namespace BlockTorrent.Wire;

/// <summary>How a peer broke the wire protocol. An enum, not a string, so that reporting it allocates nothing.</summary>
internal enum WireError
{
    /// <summary>No error.</summary>
    None,

    /// <summary>The length prefix exceeds the largest message the reader accepts.</summary>
    MessageTooLong,

    /// <summary>The message id is not one this reader knows.</summary>
    UnknownMessageId,

    /// <summary>The length prefix does not fit the message id (for example a have that is not 5 bytes long).</summary>
    InvalidLength,

    /// <summary>A bitfield's length does not match the piece count, or its spare bits are set.</summary>
    InvalidBitfield,

    /// <summary>A piece index is negative or not below the piece count.</summary>
    PieceOutOfRange,

    /// <summary>A block's offset or length is negative, zero where it must not be, or above the block limit.</summary>
    InvalidBlock,

    /// <summary>A BEP 6 message arrived although the fast extension was not negotiated.</summary>
    FastExtensionNotNegotiated,

    /// <summary>A BEP 10 message arrived although the extension protocol was not negotiated.</summary>
    ExtensionProtocolNotNegotiated,

    /// <summary>An extension message's payload is not valid bencode of the expected shape.</summary>
    InvalidExtensionMessage,
}

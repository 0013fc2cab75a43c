namespace BlockTorrent.Bencode;

/// <summary>
/// Bytes are not strict, canonical bencode: malformed, truncated, non-canonical (leading zeros, <c>-0</c>, unsorted
/// or repeated dictionary keys), followed by trailing data, or beyond a configured limit.
/// </summary>
/// <remarks>The message names the byte offset and the reason; <see cref="Offset"/> holds the offset.</remarks>
public sealed class BencodeException : FormatException
{
    /// <summary>Initializes a new instance.</summary>
    public BencodeException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">The message.</param>
    public BencodeException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the error that caused it.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public BencodeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance for an error at a byte offset.</summary>
    /// <param name="offset">The offset of the offending byte in the input.</param>
    /// <param name="reason">What is wrong there.</param>
    public BencodeException(long offset, string reason)
        : base($"Invalid bencode at byte offset {offset}: {reason}")
    {
        Offset = offset;
        Reason = reason;
    }

    /// <summary>Gets the offset of the offending byte in the input, or -1 when unknown.</summary>
    public long Offset { get; } = -1;

    /// <summary>Gets what is wrong, without the offset.</summary>
    public string? Reason { get; }
}

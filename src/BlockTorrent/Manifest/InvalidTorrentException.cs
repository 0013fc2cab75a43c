namespace BlockTorrent.Manifest;

/// <summary>
/// A .torrent (or an info dictionary, or a magnet link's metadata) is not a valid BlockTorrent manifest: bad
/// bencode, a missing or malformed field, inconsistent hashes, or a torrent that is not a single-file image.
/// The message names what was wrong.
/// </summary>
public sealed class InvalidTorrentException : FormatException
{
    /// <summary>Initializes a new instance.</summary>
    public InvalidTorrentException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What is wrong.</param>
    public InvalidTorrentException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the error that caused it.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause (often a <see cref="Bencode.BencodeException"/>).</param>
    public InvalidTorrentException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

using System.Security.Cryptography;

namespace BlockTorrent.Manifest;

/// <summary>
/// A torrent's identity: the SHA-1 (v1, 20 bytes) or SHA-256 (v2, 32 bytes) hash of its bencoded info dictionary.
/// </summary>
public readonly struct InfoHash : IEquatable<InfoHash>
{
    private readonly byte[]? _bytes;

    /// <summary>Initializes a new instance from 20 (v1) or 32 (v2) bytes.</summary>
    /// <param name="bytes">The hash bytes; they are copied.</param>
    /// <exception cref="ArgumentException">The length is neither 20 nor 32.</exception>
    public InfoHash(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != SHA1.HashSizeInBytes && bytes.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException($"An info-hash is 20 (v1) or 32 (v2) bytes, not {bytes.Length}.", nameof(bytes));
        }

        _bytes = bytes.ToArray();
    }

    /// <summary>Gets the hash bytes (empty for the default value).</summary>
    public ReadOnlySpan<byte> Span => _bytes;

    /// <summary>Gets the metadata version the hash identifies: <see cref="TorrentVersions.V1"/> or <see cref="TorrentVersions.V2"/>.</summary>
    public TorrentVersions Version => _bytes?.Length switch
    {
        SHA1.HashSizeInBytes => TorrentVersions.V1,
        SHA256.HashSizeInBytes => TorrentVersions.V2,
        _ => TorrentVersions.None,
    };

    /// <summary>
    /// Gets the 20 bytes that stand for this torrent where only 20 fit (the peer handshake, trackers, DHT):
    /// the v1 hash itself, or a v2 hash truncated to 20 bytes as BEP 52 specifies.
    /// </summary>
    public ReadOnlySpan<byte> Truncated20 => _bytes is null ? default : _bytes.AsSpan(0, SHA1.HashSizeInBytes);

    /// <summary>Parses 40 or 64 hexadecimal digits.</summary>
    /// <param name="hex">The hexadecimal text, either case.</param>
    /// <returns>The info-hash.</returns>
    /// <exception cref="FormatException">The text is not 40 or 64 hexadecimal digits.</exception>
    public static InfoHash FromHex(string hex)
    {
        ArgumentNullException.ThrowIfNull(hex);
        if (hex.Length != 40 && hex.Length != 64)
        {
            throw new FormatException($"An info-hash in hexadecimal has 40 (v1) or 64 (v2) digits, not {hex.Length}.");
        }

        return new InfoHash(Convert.FromHexString(hex));
    }

    /// <summary>Returns the hash as lower-case hexadecimal.</summary>
    /// <returns>40 or 64 hexadecimal digits.</returns>
    public string ToHex() => _bytes is null ? string.Empty : Convert.ToHexStringLower(_bytes);

    /// <inheritdoc />
    public override string ToString() => ToHex();

    /// <inheritdoc />
    public bool Equals(InfoHash other) => Span.SequenceEqual(other.Span);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is InfoHash other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => _bytes is null ? 0 : BitConverter.ToInt32(_bytes, 0);

    /// <summary>Compares two info-hashes for equality.</summary>
    /// <param name="left">The first hash.</param>
    /// <param name="right">The second hash.</param>
    /// <returns><see langword="true"/> when the bytes are equal.</returns>
    public static bool operator ==(InfoHash left, InfoHash right) => left.Equals(right);

    /// <summary>Compares two info-hashes for inequality.</summary>
    /// <param name="left">The first hash.</param>
    /// <param name="right">The second hash.</param>
    /// <returns><see langword="true"/> when the bytes differ.</returns>
    public static bool operator !=(InfoHash left, InfoHash right) => !left.Equals(right);
}

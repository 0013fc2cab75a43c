using System.Buffers;
using System.Buffers.Binary;

namespace BlockTorrent.Wire;

/// <summary>
/// The BEP 3 handshake: <c>&lt;19&gt;"BitTorrent protocol"&lt;reserved:8&gt;&lt;info-hash:20&gt;&lt;peer id:20&gt;</c>,
/// 68 bytes. For a v2-only torrent the info-hash field carries the SHA-256 info-hash truncated to 20 bytes (BEP 52).
/// </summary>
internal sealed class PeerHandshake
{
    /// <summary>The handshake's length: 68 bytes.</summary>
    public const int Size = 68;

    /// <summary>The length of the part before the peer id (protocol, reserved bytes, info-hash): 48 bytes.</summary>
    public const int SizeBeforePeerId = 48;

    /// <summary>The length of an info-hash or peer id in the handshake: 20 bytes.</summary>
    public const int IdSize = 20;

    /// <summary>The features BlockTorrent announces: fast extension, extension protocol and v2.</summary>
    public const HandshakeFeatures DefaultFeatures = HandshakeFeatures.Fast | HandshakeFeatures.ExtensionProtocol | HandshakeFeatures.V2;

    private readonly byte[] _infoHash;
    private readonly byte[] _peerId;

    /// <summary>Initializes a new handshake.</summary>
    /// <param name="features">The reserved bits.</param>
    /// <param name="infoHash">The 20-byte info-hash (v1, or truncated v2).</param>
    /// <param name="peerId">The 20-byte peer id.</param>
    /// <exception cref="ArgumentException">An id is not 20 bytes.</exception>
    public PeerHandshake(HandshakeFeatures features, ReadOnlySpan<byte> infoHash, ReadOnlySpan<byte> peerId)
    {
        if (infoHash.Length != IdSize)
        {
            throw new ArgumentException($"A handshake info-hash is {IdSize} bytes, not {infoHash.Length}.", nameof(infoHash));
        }

        if (peerId.Length != IdSize)
        {
            throw new ArgumentException($"A peer id is {IdSize} bytes, not {peerId.Length}.", nameof(peerId));
        }

        Features = features;
        _infoHash = infoHash.ToArray();
        _peerId = peerId.ToArray();
    }

    /// <summary>Gets the reserved bits.</summary>
    public HandshakeFeatures Features { get; }

    /// <summary>Gets the 20-byte info-hash.</summary>
    public ReadOnlySpan<byte> InfoHash => _infoHash;

    /// <summary>Gets the 20-byte peer id.</summary>
    public ReadOnlySpan<byte> PeerId => _peerId;

    /// <summary>Gets the protocol string's bytes, preceded by its length (19).</summary>
    public static ReadOnlySpan<byte> Protocol => "\u0013BitTorrent protocol"u8;

    /// <summary>
    /// Checks the first 48 bytes of a handshake (protocol string, reserved bytes, info-hash) and reads them.
    /// </summary>
    /// <param name="header">At least <see cref="SizeBeforePeerId"/> bytes.</param>
    /// <param name="features">The reserved bits.</param>
    /// <param name="infoHash">The info-hash: a slice of <paramref name="header"/>.</param>
    /// <returns><see langword="false"/> when the bytes are not a BitTorrent handshake.</returns>
    public static bool TryReadHeader(ReadOnlySpan<byte> header, out HandshakeFeatures features, out ReadOnlySpan<byte> infoHash)
    {
        features = HandshakeFeatures.None;
        infoHash = default;
        if (header.Length < SizeBeforePeerId || !header.StartsWith(Protocol))
        {
            return false;
        }

        features = (HandshakeFeatures)BinaryPrimitives.ReadUInt64BigEndian(header[20..]);
        infoHash = header.Slice(28, IdSize);
        return true;
    }

    /// <summary>Parses a whole 68-byte handshake.</summary>
    /// <param name="bytes">The bytes.</param>
    /// <returns>The handshake, or <see langword="null"/> when the bytes are not one.</returns>
    public static PeerHandshake? TryParse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Size || !TryReadHeader(bytes, out HandshakeFeatures features, out ReadOnlySpan<byte> infoHash))
        {
            return null;
        }

        return new PeerHandshake(features, infoHash, bytes.Slice(SizeBeforePeerId, IdSize));
    }

    /// <summary>Writes the whole handshake.</summary>
    /// <param name="destination">At least <see cref="Size"/> bytes.</param>
    public void WriteTo(Span<byte> destination)
    {
        WriteHeader(destination);
        _peerId.CopyTo(destination[SizeBeforePeerId..]);
    }

    /// <summary>Writes the whole handshake into a buffer writer.</summary>
    /// <param name="writer">The destination.</param>
    public void WriteTo(IBufferWriter<byte> writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        WriteTo(writer.GetSpan(Size));
        writer.Advance(Size);
    }

    /// <summary>Writes the first 48 bytes: protocol, reserved bytes, info-hash.</summary>
    /// <param name="destination">At least <see cref="SizeBeforePeerId"/> bytes.</param>
    public void WriteHeader(Span<byte> destination)
    {
        Protocol.CopyTo(destination);
        BinaryPrimitives.WriteUInt64BigEndian(destination[20..], (ulong)Features);
        _infoHash.CopyTo(destination[28..]);
    }

    /// <summary>Gets a value indicating whether both this and <paramref name="remote"/> announce <paramref name="feature"/>.</summary>
    /// <param name="remote">The other side's handshake.</param>
    /// <param name="feature">The capability.</param>
    /// <returns><see langword="true"/> when the capability is in use on the connection.</returns>
    public bool Negotiated(PeerHandshake remote, HandshakeFeatures feature)
    {
        ArgumentNullException.ThrowIfNull(remote);
        return (Features & feature) == feature && (remote.Features & feature) == feature;
    }
}

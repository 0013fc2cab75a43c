namespace BlockTorrent.Wire;

/// <summary>
/// The handshake's 8 reserved bytes read as one big-endian 64-bit value: byte 0 is the most significant, byte 7
/// the least. Each flag is a capability a peer announces; a capability is in use only when both peers set it.
/// </summary>
[Flags]
internal enum HandshakeFeatures : ulong
{
    /// <summary>No capability.</summary>
    None = 0,

    /// <summary>BEP 5 DHT: byte 7, bit 0x01.</summary>
    Dht = 0x01,

    /// <summary>BEP 6 fast extension: byte 7, bit 0x04.</summary>
    Fast = 0x04,

    /// <summary>BEP 52 v2 upgrade (the peer supports v2 and can switch a hybrid torrent to its v2 hash): byte 7, bit 0x10.</summary>
    V2 = 0x10,

    /// <summary>BEP 10 extension protocol: byte 5, bit 0x10.</summary>
    ExtensionProtocol = 0x10UL << 16,
}

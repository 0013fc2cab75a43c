namespace BlockTorrent.Manifest;

/// <summary>The BitTorrent metadata versions a torrent carries.</summary>
[Flags]
public enum TorrentVersions
{
    /// <summary>No metadata (not a valid torrent).</summary>
    None = 0,

    /// <summary>BEP 3: SHA-1 piece hashes, 20-byte info-hash.</summary>
    V1 = 1,

    /// <summary>BEP 52: SHA-256 merkle trees, 32-byte info-hash.</summary>
    V2 = 2,

    /// <summary>Both (BEP 52 hybrid): every client can join.</summary>
    Hybrid = V1 | V2,
}

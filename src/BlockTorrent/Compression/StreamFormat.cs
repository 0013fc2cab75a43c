namespace BlockTorrent.Compression;

/// <summary>A single-stream compression format a <see cref="StreamImage"/> can be in.</summary>
public enum StreamFormat
{
    /// <summary>Zstandard (<c>.zst</c>), decoded with ZstdSharp.</summary>
    Zstd,

    /// <summary>gzip (<c>.gz</c>), decoded with System.IO.Compression.</summary>
    Gzip,

    /// <summary>xz (<c>.xz</c>), decoded with SharpCompress.</summary>
    Xz,
}

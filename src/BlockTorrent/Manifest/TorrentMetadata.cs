namespace BlockTorrent.Manifest;

/// <summary>The parts of a .torrent outside the info dictionary (not covered by the info-hash).</summary>
internal sealed record TorrentMetadata
{
    /// <summary>Gets an empty set of metadata.</summary>
    public static TorrentMetadata Empty { get; } = new();

    /// <summary>Gets the tracker tiers (BEP 12); a single <c>announce</c> is one tier of one tracker.</summary>
    public IReadOnlyList<IReadOnlyList<string>> TrackerTiers { get; init; } = [];

    /// <summary>Gets the web seeds (BEP 19 <c>url-list</c>).</summary>
    public IReadOnlyList<string> WebSeeds { get; init; } = [];

    /// <summary>Gets the free-text comment.</summary>
    public string? Comment { get; init; }

    /// <summary>Gets the name of the program that made the torrent.</summary>
    public string? CreatedBy { get; init; }

    /// <summary>Gets when the torrent was made.</summary>
    public DateTimeOffset? CreationDate { get; init; }

    /// <summary>Gets the bencoded <c>signatures</c> dictionary, byte for byte, or <see langword="null"/> when unsigned.</summary>
    public byte[]? Signatures { get; init; }

    /// <summary>Gets the encoded <see cref="Manifest.BlockMap"/> (zero and repeated blocks inside pieces), or <see langword="null"/>.</summary>
    public byte[]? BlockMap { get; init; }
}

namespace BlockTorrent;

/// <summary>How a client decides which interested peers it uploads to.</summary>
public enum ChokingMode
{
    /// <summary>
    /// Unchoke every interested peer (up to <see cref="BlockTorrentClientOptions.MaxUploads"/>): right for a LAN or a
    /// machine room, where every peer is a friend and upload capacity is not scarce.
    /// </summary>
    UnchokeAll = 0,

    /// <summary>
    /// BEP 3 tit-for-tat: unchoke the peers that give us the most (or, when seeding, take the most), plus one
    /// optimistic unchoke that rotates, within <see cref="BlockTorrentClientOptions.MaxUploads"/> slots.
    /// </summary>
    TitForTat = 1,
}

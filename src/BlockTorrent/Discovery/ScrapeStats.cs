namespace BlockTorrent.Discovery;

/// <summary>A tracker's counters for one torrent (BEP 48 scrape, BEP 15 scrape).</summary>
/// <param name="Seeders">Peers that have the whole torrent.</param>
/// <param name="Completed">How many times the tracker saw a download complete.</param>
/// <param name="Leechers">Peers still downloading.</param>
internal readonly record struct ScrapeStats(int Seeders, int Completed, int Leechers);

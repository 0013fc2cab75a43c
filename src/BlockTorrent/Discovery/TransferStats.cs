namespace BlockTorrent.Discovery;

/// <summary>What a peer reports to trackers about its transfer of one torrent (BEP 3).</summary>
/// <param name="Uploaded">Bytes uploaded since the torrent started.</param>
/// <param name="Downloaded">Bytes downloaded since the torrent started.</param>
/// <param name="Left">Bytes still missing (0 for a seed).</param>
internal readonly record struct TransferStats(long Uploaded, long Downloaded, long Left);

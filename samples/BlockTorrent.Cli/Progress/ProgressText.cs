using System.Globalization;
using BlockTorrent.Cli.Parsing;

namespace BlockTorrent.Cli.Progress;

/// <summary>The wording shared by the terminal bar and the plain lines, so both say the same thing the same way.</summary>
internal static class ProgressText
{
    public static string Percent(TransferSnapshot s) => (s.Fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";

    public static string Amount(TransferSnapshot s) => $"{ByteSize.Format(s.CompletedBytes)}/{ByteSize.Format(s.TotalBytes)}";

    public static string Rates(TransferSnapshot s) => $"DL:{ByteSize.Format(s.DownloadRate)}/s UL:{ByteSize.Format(s.UploadRate)}/s";

    public static string Pieces(TransferSnapshot s) => string.Create(
        CultureInfo.InvariantCulture,
        $"pieces:{s.PiecesFromPeers} net+{s.PiecesLocal} local/{s.TotalPieces}");

    public static string Peers(TransferSnapshot s) => string.Create(CultureInfo.InvariantCulture, $"peers:{s.Peers}");

    /// <summary>
    /// Gets the fields to show after the percentage, most important first: for a transfer, amount, rates, peers,
    /// piece sources and ETA; for local hashing (<c>hashing</c>, <c>checking</c>), amount, hashing rate and ETA; for a
    /// seed, bytes sent, upload rate and peers.
    /// </summary>
    public static string[] Fields(TransferSnapshot s) => s.State switch
    {
        "hashing" or "checking" => [Amount(s), $"rate:{ByteSize.Format(s.DownloadRate)}/s", Eta(s)],
        "seeding" => [$"sent:{ByteSize.Format(s.Uploaded)}", $"UL:{ByteSize.Format(s.UploadRate)}/s", Peers(s)],
        _ => [Amount(s), Rates(s), Peers(s), Pieces(s), Eta(s)],
    };

    public static string Eta(TransferSnapshot s) => s.Eta is TimeSpan eta ? "ETA:" + Duration.Format(eta) : "ETA:--";
}

using System.Text;
using BlockTorrent.Manifest;

namespace BlockTorrent.Cli.Commands;

/// <summary>The magnet link (BEP 9, BEP 52) of a manifest: both info-hashes of a hybrid, its name and trackers.</summary>
internal static class MagnetLinks
{
    public static string ToText(TorrentManifest manifest)
    {
        var text = new StringBuilder("magnet:?");
        string separator = string.Empty;
        if (manifest.InfoHashV1 is InfoHash v1)
        {
            text.Append("xt=urn:btih:").Append(v1.ToHex());
            separator = "&";
        }

        if (manifest.InfoHashV2 is InfoHash v2)
        {
            // A multihash: 0x12 = SHA2-256, 0x20 = 32 bytes.
            text.Append(separator).Append("xt=urn:btmh:1220").Append(v2.ToHex());
        }

        text.Append("&dn=").Append(Uri.EscapeDataString(manifest.Name));
        foreach (string tracker in manifest.Trackers)
        {
            text.Append("&tr=").Append(Uri.EscapeDataString(tracker));
        }

        return text.ToString();
    }
}

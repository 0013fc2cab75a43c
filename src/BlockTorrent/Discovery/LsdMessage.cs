using System.Globalization;
using System.Net;
using System.Text;
using BlockTorrent.Manifest;

namespace BlockTorrent.Discovery;

/// <summary>
/// The Local Service Discovery announce (BEP 14): an HTTP-like <c>BT-SEARCH</c> request sent by UDP multicast,
/// with the sender's TCP port, one or more hex info-hashes and a cookie that lets a sender drop its own echoes.
/// </summary>
internal static class LsdMessage
{
    /// <summary>The IPv4 multicast group (org-local).</summary>
    public static readonly IPAddress IPv4Group = IPAddress.Parse("239.192.152.143");

    /// <summary>The IPv6 multicast group (site-local), as BEP 14 and libtorrent use it.</summary>
    public static readonly IPAddress IPv6Group = IPAddress.Parse("ff15::efc0:988f");

    /// <summary>The UDP port of both groups.</summary>
    public const int DefaultPort = 6771;

    /// <summary>The largest announce we send (BEP 14: avoid fragmentation).</summary>
    public const int MaxSendLength = 1400;

    /// <summary>The largest announce we read; anything longer is dropped unread.</summary>
    public const int MaxReceiveLength = 2048;

    /// <summary>The most info-hashes taken from one received announce.</summary>
    public const int MaxInfoHashesPerMessage = 32;

    private const string RequestLine = "BT-SEARCH * HTTP/1.1";

    /// <summary>Gets the <c>Host</c> header value for a group.</summary>
    /// <param name="group">One of the two groups.</param>
    /// <param name="port">The group's port.</param>
    /// <returns><c>239.192.152.143:6771</c> or <c>[ff15::efc0:988f]:6771</c>.</returns>
    public static string HostHeader(IPAddress group, int port) => new IPEndPoint(group, port).ToString();

    /// <summary>Gets how many info-hashes fit in one announce of at most <see cref="MaxSendLength"/> bytes.</summary>
    /// <param name="host">The Host header value.</param>
    /// <param name="cookie">The cookie, or <see langword="null"/>.</param>
    /// <returns>At least 1.</returns>
    public static int HashesPerMessage(string host, string? cookie)
    {
        int fixedLength = Write([], host, 65535, [], cookie);
        int perHash = "Infohash: \r\n".Length + 40;
        return Math.Max(1, (MaxSendLength - fixedLength) / perHash);
    }

    /// <summary>Writes an announce, or measures it when <paramref name="destination"/> is empty.</summary>
    /// <param name="destination">The buffer, or empty to only compute the length.</param>
    /// <param name="host">The Host header value.</param>
    /// <param name="port">Our TCP port.</param>
    /// <param name="infoHashes">The torrents (their 20-byte form is announced).</param>
    /// <param name="cookie">Our cookie, or <see langword="null"/>.</param>
    /// <returns>The message length.</returns>
    public static int Write(Span<byte> destination, string host, int port, IReadOnlyList<InfoHash> infoHashes, string? cookie)
    {
        var text = new StringBuilder(128 + (infoHashes.Count * 52));
        text.Append(RequestLine).Append("\r\n");
        text.Append("Host: ").Append(host).Append("\r\n");
        text.Append("Port: ").Append(port.ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        foreach (InfoHash hash in infoHashes)
        {
            text.Append("Infohash: ").Append(Convert.ToHexStringLower(hash.Truncated20)).Append("\r\n");
        }

        if (cookie is not null)
        {
            text.Append("cookie: ").Append(cookie).Append("\r\n");
        }

        text.Append("\r\n\r\n");
        string message = text.ToString();
        return destination.IsEmpty ? Encoding.ASCII.GetByteCount(message) : Encoding.ASCII.GetBytes(message, destination);
    }

    /// <summary>Parses a received announce.</summary>
    /// <param name="packet">The datagram.</param>
    /// <param name="port">The sender's TCP port.</param>
    /// <param name="infoHashes">Receives the announced info-hashes (20 bytes each), at most <see cref="MaxInfoHashesPerMessage"/>.</param>
    /// <param name="cookie">The sender's cookie, or <see langword="null"/>.</param>
    /// <returns><see langword="false"/> when the datagram is not a valid announce (then nothing is trustworthy).</returns>
    public static bool TryParse(ReadOnlySpan<byte> packet, out int port, List<InfoHash> infoHashes, out string? cookie)
    {
        port = 0;
        cookie = null;
        infoHashes.Clear();
        if (packet.Length > MaxReceiveLength || packet.ContainsAnyExceptInRange((byte)0x09, (byte)0x7E))
        {
            return false;
        }

        string text = Encoding.ASCII.GetString(packet);
        string[] lines = text.Split('\n');
        if (lines.Length < 2 || !string.Equals(lines[0].TrimEnd('\r'), RequestLine, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        for (int i = 1; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Length == 0)
            {
                break;
            }

            int colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return false;
            }

            ReadOnlySpan<char> name = line.AsSpan(0, colon).Trim();
            ReadOnlySpan<char> value = line.AsSpan(colon + 1).Trim();
            if (name.Equals("Port", StringComparison.OrdinalIgnoreCase))
            {
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
                {
                    return false;
                }
            }
            else if (name.Equals("Infohash", StringComparison.OrdinalIgnoreCase))
            {
                // Only the 40-digit form is specified; anything else is skipped, not fatal, to stay forward-compatible.
                if (value.Length == 40 && infoHashes.Count < MaxInfoHashesPerMessage && IsHex(value))
                {
                    InfoHash hash = new(Convert.FromHexString(value));
                    if (!infoHashes.Contains(hash))
                    {
                        infoHashes.Add(hash);
                    }
                }
            }
            else if (name.Equals("cookie", StringComparison.OrdinalIgnoreCase))
            {
                cookie = value.ToString();
            }
        }

        return port != 0 && infoHashes.Count > 0;
    }

    private static bool IsHex(ReadOnlySpan<char> value) => !value.ContainsAnyExcept("0123456789abcdefABCDEF");
}

using System.Globalization;
using System.Net;

namespace BlockTorrent.Cli.Parsing;

/// <summary>Parses <c>ADDR:PORT</c> as typed on a command line: <c>127.0.0.1:6881</c>, <c>[::1]:6881</c>, <c>:6881</c>, <c>localhost:6881</c>.</summary>
internal static class EndPoints
{
    /// <summary>Parses an address and port.</summary>
    /// <param name="text">The text.</param>
    /// <param name="endPoint">The end point; an empty address (<c>:6881</c>) means every IPv4 address.</param>
    /// <param name="error">Why the text is not an end point.</param>
    /// <returns><see langword="true"/> when the text is an end point.</returns>
    public static bool TryParse(string? text, out IPEndPoint endPoint, out string? error)
    {
        endPoint = new IPEndPoint(IPAddress.None, 0);
        error = $"'{text}' is not ADDR:PORT; use for example 127.0.0.1:6881, [::1]:6881 or :6881.";
        string s = (text ?? string.Empty).Trim();
        int colon = s.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(s.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > IPEndPoint.MaxPort)
        {
            return false;
        }

        string host = s[..colon];
        IPAddress address;
        if (host.Length == 0)
        {
            address = IPAddress.Any;
        }
        else if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(host.Trim('[', ']'), out address!))
        {
            return false;
        }

        endPoint = new IPEndPoint(address, port);
        error = null;
        return true;
    }
}

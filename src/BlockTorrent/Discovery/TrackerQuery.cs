using System.Buffers;
using System.Text;

namespace BlockTorrent.Discovery;

/// <summary>
/// The query strings of HTTP tracker requests: binary values (info_hash, peer_id) are percent-encoded byte by byte,
/// everything outside the URL-unreserved set included.
/// </summary>
internal static class TrackerQuery
{
    private static readonly SearchValues<byte> Unreserved = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"u8);

    /// <summary>Appends <c>&amp;name=value</c> (or <c>?name=value</c> first) with the value percent-encoded.</summary>
    /// <param name="query">The query being built.</param>
    /// <param name="name">The parameter name (plain ASCII).</param>
    /// <param name="value">The raw value bytes.</param>
    public static void Append(StringBuilder query, string name, ReadOnlySpan<byte> value)
    {
        query.Append(query.Length == 0 ? '?' : '&').Append(name).Append('=');
        foreach (byte b in value)
        {
            if (Unreserved.Contains(b))
            {
                query.Append((char)b);
            }
            else
            {
                query.Append('%').Append(Convert.ToHexString([b]));
            }
        }
    }

    /// <summary>Appends a text parameter.</summary>
    /// <param name="query">The query being built.</param>
    /// <param name="name">The parameter name.</param>
    /// <param name="value">The value (UTF-8 encoded, then percent-encoded).</param>
    public static void Append(StringBuilder query, string name, string value) => Append(query, name, Encoding.UTF8.GetBytes(value));

    /// <summary>Splits and percent-decodes a query string (without the <c>?</c>).</summary>
    /// <param name="query">The query.</param>
    /// <param name="maxParameters">The most parameters accepted.</param>
    /// <param name="parameters">The parameters in order; names are ASCII text, values raw bytes.</param>
    /// <returns><see langword="false"/> when the query is malformed (a bad escape) or has too many parameters.</returns>
    public static bool TryParse(ReadOnlySpan<byte> query, int maxParameters, out List<KeyValuePair<string, byte[]>> parameters)
    {
        parameters = [];
        while (!query.IsEmpty)
        {
            int amp = query.IndexOf((byte)'&');
            ReadOnlySpan<byte> pair = amp < 0 ? query : query[..amp];
            query = amp < 0 ? [] : query[(amp + 1)..];
            if (pair.IsEmpty)
            {
                continue;
            }

            if (parameters.Count == maxParameters)
            {
                return false;
            }

            int eq = pair.IndexOf((byte)'=');
            byte[]? name = Decode(eq < 0 ? pair : pair[..eq]);
            byte[]? value = Decode(eq < 0 ? [] : pair[(eq + 1)..]);
            if (name is null || value is null)
            {
                return false;
            }

            parameters.Add(new(Encoding.ASCII.GetString(name), value));
        }

        return true;
    }

    private static byte[]? Decode(ReadOnlySpan<byte> encoded)
    {
        byte[] decoded = new byte[encoded.Length];
        int length = 0;
        for (int i = 0; i < encoded.Length; i++)
        {
            byte b = encoded[i];
            if (b == '%')
            {
                if (i + 2 >= encoded.Length || !IsHex(encoded[i + 1]) || !IsHex(encoded[i + 2]))
                {
                    return null;
                }

                decoded[length++] = (byte)((HexValue(encoded[i + 1]) << 4) | HexValue(encoded[i + 2]));
                i += 2;
            }
            else
            {
                decoded[length++] = b == '+' ? (byte)' ' : b;
            }
        }

        return decoded[..length];
    }

    private static bool IsHex(byte b) => char.IsAsciiHexDigit((char)b);

    private static int HexValue(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;
}

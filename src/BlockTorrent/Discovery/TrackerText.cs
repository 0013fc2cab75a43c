using System.Text;

namespace BlockTorrent.Discovery;

/// <summary>Turns text a tracker or peer sent into something safe to log and show.</summary>
internal static class TrackerText
{
    /// <summary>The most characters kept from a remote message.</summary>
    public const int MaxLength = 512;

    /// <summary>Decodes UTF-8 (invalid bytes become U+FFFD), drops control characters and bounds the length.</summary>
    /// <param name="bytes">The raw text.</param>
    /// <returns>The cleaned text.</returns>
    public static string Sanitize(ReadOnlySpan<byte> bytes)
    {
        string text = Encoding.UTF8.GetString(bytes[..Math.Min(bytes.Length, MaxLength * 4)]);
        var builder = new StringBuilder(Math.Min(text.Length, MaxLength));
        foreach (char c in text)
        {
            if (builder.Length == MaxLength)
            {
                break;
            }

            builder.Append(char.IsControl(c) ? ' ' : c);
        }

        return builder.ToString().Trim();
    }
}

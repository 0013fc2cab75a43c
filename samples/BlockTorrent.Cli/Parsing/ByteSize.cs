using System.Globalization;

namespace BlockTorrent.Cli.Parsing;

/// <summary>
/// Sizes as people type them: <c>512MiB</c>, <c>4M</c>, <c>1.5GiB</c>, <c>4096</c>. As in dd, a bare letter or an
/// "iB" suffix is binary (<c>4M</c> = <c>4MiB</c> = 4×1024²) and a "B" suffix is decimal (<c>4MB</c> = 4×1000²).
/// </summary>
internal static class ByteSize
{
    private static readonly string[] BinaryUnits = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    /// <summary>Parses a size; the message of a failure says what is accepted.</summary>
    /// <param name="text">The size text.</param>
    /// <param name="bytes">The size in bytes.</param>
    /// <param name="error">Why the text is not a size.</param>
    /// <returns><see langword="true"/> when the text is a size.</returns>
    public static bool TryParse(string? text, out long bytes, out string? error)
    {
        bytes = 0;
        error = null;
        string s = (text ?? string.Empty).Trim();
        int split = 0;
        while (split < s.Length && (char.IsAsciiDigit(s[split]) || s[split] == '.'))
        {
            split++;
        }

        string number = s[..split];
        string unit = s[split..].Trim();
        if (number.Length == 0 || !decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out decimal value))
        {
            error = $"'{text}' is not a size; use a number with an optional unit, for example 4096, 4MiB, 512M or 2GiB.";
            return false;
        }

        long? multiplier = Multiplier(unit);
        if (multiplier is null)
        {
            error = $"'{text}' has an unknown unit '{unit}'; use B, K, KiB, KB, M, MiB, MB, G, GiB, GB, T, TiB, TB, P, PiB or PB.";
            return false;
        }

        decimal result = value * multiplier.Value;
        if (result > long.MaxValue)
        {
            error = $"'{text}' is too large.";
            return false;
        }

        if (result != decimal.Truncate(result))
        {
            error = $"'{text}' is not a whole number of bytes.";
            return false;
        }

        bytes = (long)result;
        return true;
    }

    /// <summary>Formats a size with a binary unit and at most one decimal: <c>512 MiB</c>, <c>1.5 GiB</c>, <c>300 B</c>.</summary>
    /// <param name="bytes">The size in bytes.</param>
    /// <returns>The text.</returns>
    public static string Format(long bytes) => Format((double)bytes);

    /// <summary>Formats a size (or a rate's bytes) with a binary unit.</summary>
    /// <param name="bytes">The size in bytes.</param>
    /// <returns>The text.</returns>
    public static string Format(double bytes)
    {
        int unit = 0;
        double value = Math.Abs(bytes);
        while (value >= 1024 && unit < BinaryUnits.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        value = Math.Sign(bytes) * value;
        string number = unit == 0 || value >= 100 || value == Math.Floor(value)
            ? value.ToString("0", CultureInfo.InvariantCulture)
            : value.ToString("0.0", CultureInfo.InvariantCulture);
        return number + " " + BinaryUnits[unit];
    }

    private static long? Multiplier(string unit)
    {
        const long Ki = 1024;
        return unit.ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KIB" => Ki,
            "KB" => 1000,
            "M" or "MIB" => Ki * Ki,
            "MB" => 1000 * 1000,
            "G" or "GIB" => Ki * Ki * Ki,
            "GB" => 1000L * 1000 * 1000,
            "T" or "TIB" => Ki * Ki * Ki * Ki,
            "TB" => 1000L * 1000 * 1000 * 1000,
            "P" or "PIB" => Ki * Ki * Ki * Ki * Ki,
            "PB" => 1000L * 1000 * 1000 * 1000 * 1000,
            _ => null,
        };
    }
}

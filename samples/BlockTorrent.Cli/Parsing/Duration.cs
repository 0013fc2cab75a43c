using System.Globalization;

namespace BlockTorrent.Cli.Parsing;

/// <summary>
/// Durations as people type them: <c>30s</c>, <c>10m</c>, <c>1h30m</c>, <c>500ms</c>, <c>2d</c>, a bare number of
/// seconds, or <c>forever</c> (<see cref="Timeout.InfiniteTimeSpan"/>).
/// </summary>
internal static class Duration
{
    /// <summary>Parses a duration.</summary>
    /// <param name="text">The duration text.</param>
    /// <param name="duration">The duration, or <see cref="Timeout.InfiniteTimeSpan"/> for <c>forever</c>.</param>
    /// <param name="error">Why the text is not a duration.</param>
    /// <returns><see langword="true"/> when the text is a duration.</returns>
    public static bool TryParse(string? text, out TimeSpan duration, out string? error)
    {
        duration = TimeSpan.Zero;
        error = null;
        string s = (text ?? string.Empty).Trim().ToLowerInvariant();
        if (s is "forever" or "infinite" or "inf")
        {
            duration = Timeout.InfiniteTimeSpan;
            return true;
        }

        string invalid = $"'{text}' is not a duration; use for example 30s, 10m, 1h30m, 500ms, a number of seconds, or 'forever'.";
        if (s.Length == 0)
        {
            error = invalid;
            return false;
        }

        if (double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds))
        {
            duration = TimeSpan.FromSeconds(seconds);
            return true;
        }

        int i = 0;
        TimeSpan total = TimeSpan.Zero;
        while (i < s.Length)
        {
            int start = i;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.'))
            {
                i++;
            }

            int unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i]))
            {
                i++;
            }

            if (start == unitStart || !double.TryParse(s.AsSpan(start, unitStart - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value))
            {
                error = invalid;
                return false;
            }

            TimeSpan? part = s[unitStart..i] switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "s" or "sec" => TimeSpan.FromSeconds(value),
                "m" or "min" => TimeSpan.FromMinutes(value),
                "h" => TimeSpan.FromHours(value),
                "d" => TimeSpan.FromDays(value),
                _ => null,
            };
            if (part is null)
            {
                error = invalid;
                return false;
            }

            total += part.Value;
        }

        duration = total;
        return true;
    }

    /// <summary>Formats a duration compactly: <c>42s</c>, <c>3m05s</c>, <c>1h02m</c>.</summary>
    /// <param name="duration">The duration.</param>
    /// <returns>The text.</returns>
    public static string Format(TimeSpan duration)
    {
        if (duration == Timeout.InfiniteTimeSpan)
        {
            return "forever";
        }

        if (duration < TimeSpan.FromSeconds(10))
        {
            return duration.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";
        }

        if (duration < TimeSpan.FromMinutes(1))
        {
            return ((int)duration.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s";
        }

        if (duration < TimeSpan.FromHours(1))
        {
            return string.Create(CultureInfo.InvariantCulture, $"{(int)duration.TotalMinutes}m{duration.Seconds:00}s");
        }

        return string.Create(CultureInfo.InvariantCulture, $"{(int)duration.TotalHours}h{duration.Minutes:00}m");
    }
}

using System.Globalization;
using System.Text;

namespace BlockTorrent.Cli.Commands;

/// <summary>Writes sorted piece indices as ranges: <c>3-7, 12, 40-41</c>.</summary>
internal static class PieceRanges
{
    public static IEnumerable<(int First, int Last)> Ranges(IReadOnlyList<int> sortedPieces)
    {
        int i = 0;
        while (i < sortedPieces.Count)
        {
            int first = sortedPieces[i];
            int last = first;
            while (i + 1 < sortedPieces.Count && sortedPieces[i + 1] == last + 1)
            {
                last = sortedPieces[++i];
            }

            yield return (first, last);
            i++;
        }
    }

    /// <summary>Formats the ranges, cutting the list after <paramref name="maxRanges"/> with a count of the rest.</summary>
    public static string Format(IReadOnlyList<int> sortedPieces, int maxRanges = 20)
    {
        var text = new StringBuilder();
        int shown = 0;
        int rest = 0;
        foreach ((int first, int last) in Ranges(sortedPieces))
        {
            if (shown == maxRanges)
            {
                rest++;
                continue;
            }

            if (shown > 0)
            {
                text.Append(", ");
            }

            text.Append(first.ToString(CultureInfo.InvariantCulture));
            if (last != first)
            {
                text.Append('-').Append(last.ToString(CultureInfo.InvariantCulture));
            }

            shown++;
        }

        if (rest > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" and {rest} more ranges");
        }

        return text.ToString();
    }
}

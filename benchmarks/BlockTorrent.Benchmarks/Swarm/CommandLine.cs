using System.Globalization;

namespace BlockTorrent.Benchmarks.Swarm;

/// <summary>The few option forms the swarm benchmark commands take: <c>--name value</c> (repeatable) and <c>--flag</c>.</summary>
internal sealed class CommandLine(string[] args)
{
    public string Text(string name, string fallback)
    {
        int index = Array.LastIndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }

    public string? Text(string name) => Array.LastIndexOf(args, name) is int i && i >= 0 && i + 1 < args.Length ? args[i + 1] : null;

    public IReadOnlyList<string> All(string name)
    {
        var values = new List<string>();
        for (int i = 0; i + 1 < args.Length; i++)
        {
            if (args[i] == name)
            {
                values.Add(args[i + 1]);
            }
        }

        return values;
    }

    public bool Flag(string name) => Array.IndexOf(args, name) >= 0;

    public int Int(string name, int fallback) => int.Parse(Text(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    public double Double(string name, double fallback) => double.Parse(Text(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    /// <summary>Parses a size such as <c>1GiB</c>, <c>256MiB</c>, <c>4096KiB</c> or a plain byte count.</summary>
    public long Size(string name, long fallback) => Text(name) is { } text ? ParseSize(text) : fallback;

    public static long ParseSize(string text)
    {
        (string suffix, long unit)[] units = [("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("G", 1L << 30), ("M", 1L << 20), ("K", 1L << 10)];
        foreach ((string suffix, long unit) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return (long)(double.Parse(text[..^suffix.Length], CultureInfo.InvariantCulture) * unit);
            }
        }

        return long.Parse(text, CultureInfo.InvariantCulture);
    }

    public static string FormatSize(long bytes) =>
        bytes >= 1L << 30 && bytes % (1L << 30) == 0 ? $"{bytes >> 30} GiB"
        : bytes >= 1L << 20 && bytes % (1L << 20) == 0 ? $"{bytes >> 20} MiB"
        : bytes >= 1L << 10 && bytes % (1L << 10) == 0 ? $"{bytes >> 10} KiB"
        : $"{bytes} B";
}

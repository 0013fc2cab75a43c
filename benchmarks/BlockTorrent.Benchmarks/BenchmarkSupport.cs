using System.Globalization;

namespace BlockTorrent.Benchmarks;

/// <summary>What the command-line measurements (loop-throughput, manifest-speed) share: options and test images.</summary>
internal static class BenchmarkSupport
{
    public static long Option(string[] args, string name, long fallback) =>
        long.Parse(OptionText(args, name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    public static string OptionText(string[] args, string name, string fallback)
    {
        int index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
    }

    /// <summary>Writes an incompressible image (no zero or duplicate pieces), which stays in the page cache.</summary>
    public static void WriteRandomImage(string path, long length)
    {
        var random = new Random(42);
        var chunk = new byte[16 << 20];
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
        for (long written = 0; written < length; written += chunk.Length)
        {
            random.NextBytes(chunk);
            file.Write(chunk, 0, (int)Math.Min(chunk.Length, length - written));
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using BlockTorrent.Benchmarks.Swarm;

namespace BlockTorrent.Benchmarks.Machine;

/// <summary>
/// The machine benchmark's swarm: <c>benchmarks/swarm/netns-swarm.sh</c> at a small size (1 seed + N targets, each in
/// its own network namespace, links shaped both ways), its last target's time held against the fluid bound, and each
/// target's progress drawn as an SVG plot. Needs root; says why when it does not run.
/// </summary>
internal static partial class NamespaceSwarm
{
    public static async Task<int> RunAsync(MachineReport report, Swarm.CommandLine cl, string logs)
    {
        if (cl.Flag("--no-swarm"))
        {
            report.Skip("swarm", "--no-swarm");
            return 0;
        }

        if (!Environment.IsPrivilegedProcess)
        {
            report.Skip("swarm", "needs root for network namespaces (run the command with sudo)");
            return 0;
        }

        int targets = cl.Int("--swarm-targets", 4);
        int rate = cl.Int("--swarm-rate", 100);
        long size = cl.Size("--swarm-size", 64L << 20);
        string script = PairBenchmarks.WorkDirectory.FindScript("swarm/netns-swarm.sh");
        Console.WriteLine($"swarm: {script} --targets {targets} --rate {rate} --size {size}");
        var info = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in (string[])[script, "--targets", $"{targets}", "--rate", $"{rate}", "--size", $"{size}", "--timeout", "600", "--keep-logs", logs])
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start bash.");
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        var times = new List<double>();
        foreach (Match match in CompleteLine().Matches(output))
        {
            times.Add(double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture));
        }

        if (process.ExitCode != 0 || times.Count != targets)
        {
            string tail = string.Join(" | ", (output + await error.ConfigureAwait(false)).Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(6));
            report.Skip("swarm", $"netns-swarm.sh exited with {process.ExitCode}, {times.Count} of {targets} targets complete: {tail}");
            return 1;
        }

        // The fluid bound: the seed uploads the image once at its link rate. A target's effective rate is the image over
        // the time the last target took, so the share of the limit is bound / T_all.
        double bound = size * 8.0 / (rate * 1e6);
        double last = times.Max();
        report.Describe("swarm", string.Create(CultureInfo.InvariantCulture, $"1 seed + {targets} targets at {rate} Mbit/s, {Swarm.CommandLine.FormatSize(size)}: last target at {last:F1} s, fluid bound {bound:F1} s = {last / bound:F2} x"));
        report.Add(new("swarm", $"1 seed + {targets} targets in network namespaces: the image over the last target's time", size / last / 1e6, "MB/s", "link rate (the fluid bound)", rate * 1e6 / 8 / 1e6));
        if (cl.Text("--svg") is { } svg)
        {
            await File.WriteAllTextAsync(svg, Plot(logs, targets, size, bound)).ConfigureAwait(false);
            Console.WriteLine($"SVG: {svg}");
        }

        return 0;
    }

    /// <summary>Draws each target's share of the image against time from its once-a-second progress lines.</summary>
    internal static string Plot(string logs, int targets, long size, double bound)
    {
        var series = new List<List<(double T, double Share)>>();
        for (int i = 1; i <= targets; i++)
        {
            var points = new List<(double, double)> { (0, 0) };
            foreach (string line in File.ReadLines(Path.Combine(logs, $"t{i}.log")).Where(l => l.StartsWith('{')))
            {
                using var json = JsonDocument.Parse(line);
                JsonElement e = json.RootElement;
                string? kind = e.TryGetProperty("event", out JsonElement k) ? k.GetString() : null;
                if (kind == "progress")
                {
                    points.Add((e.GetProperty("t").GetDouble(), e.GetProperty("down").GetInt64() / (double)size));
                }
                else if (kind == "complete")
                {
                    points.Add((e.GetProperty("seconds").GetDouble(), 1));
                    break;
                }
            }

            series.Add(points);
        }

        const double Width = 640, Height = 360, Left = 50, Bottom = 30, Top = 20, Right = 20;
        double span = Math.Max(bound, series.Max(s => s[^1].T)) * 1.05;
        string X(double t) => (Left + (t / span * (Width - Left - Right))).ToString("F1", CultureInfo.InvariantCulture);
        string Y(double share) => (Height - Bottom - (share * (Height - Bottom - Top))).ToString("F1", CultureInfo.InvariantCulture);
        string[] colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"11\">\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(0)}\" y1=\"{Y(0)}\" x2=\"{X(span)}\" y2=\"{Y(0)}\" stroke=\"black\"/><line x1=\"{X(0)}\" y1=\"{Y(0)}\" x2=\"{X(0)}\" y2=\"{Y(1)}\" stroke=\"black\"/>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(span / 2)}\" y=\"{Height - 5}\" text-anchor=\"middle\">seconds</text><text x=\"5\" y=\"{Y(1)}\">image</text><text x=\"5\" y=\"{Y(0)}\">0</text><text x=\"5\" y=\"{Y(0.5)}\">50 %</text>\n");
        svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(bound)}\" y1=\"{Y(0)}\" x2=\"{X(bound)}\" y2=\"{Y(1)}\" stroke=\"grey\" stroke-dasharray=\"4 3\"/><text x=\"{X(bound)}\" y=\"{Top - 5}\" text-anchor=\"middle\">fluid bound {bound.ToString("F1", CultureInfo.InvariantCulture)} s</text>\n");
        for (int i = 0; i < series.Count; i++)
        {
            string points = string.Join(' ', series[i].Select(p => $"{X(p.T)},{Y(p.Share)}"));
            svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{colours[i % colours.Length]}\" stroke-width=\"1.5\" points=\"{points}\"><title>target {i + 1}</title></polyline>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    [GeneratedRegex(@"^target \d+: complete after ([0-9.]+) s", RegexOptions.Multiline)]
    private static partial Regex CompleteLine();
}

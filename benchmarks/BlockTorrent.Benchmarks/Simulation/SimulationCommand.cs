using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace BlockTorrent.Benchmarks.Simulation;

/// <summary>
/// <c>simulate [--targets 10,20,50,100,200,500,1000] [--size 64MiB] [--piece-size 256KiB] [--rate 50] [--slow-share 0.1]
/// [--slow-factor 5] [--leave-share 0.02] [--degree 40] [--super-seed adaptive|always|never] [--step 0.01] [--seed 1] [--csv FILE]
/// [--trace]</c>: the swarm simulation (<see cref="SwarmSimulation"/>) for each swarm size, as a table of T / fluid bound
/// against multicast's, and as CSV for a plot; <c>--trace</c> adds each run's timeline, one line a simulated second.
/// </summary>
internal static class SimulationCommand
{
    private const string Header = "targets,slow,left,t_fast_s,bound_fast_s,fast_ratio,t_all_s,bound_all_s,all_ratio,multicast_s,multicast_fast_ratio,multicast_all_ratio,seed_sent_images,wall_s";

    public static async Task<int> RunAsync(string[] args)
    {
        var cl = new Swarm.CommandLine(args);
        int[] sizes = [.. cl.Text("--targets", "10,20,50,100,200,500,1000").Split(',').Select(t => int.Parse(t, CultureInfo.InvariantCulture))];
        var template = new SimulationOptions
        {
            ImageBytes = cl.Size("--size", 64L << 20),
            PieceLength = (int)cl.Size("--piece-size", 256 << 10),
            LinkRate = cl.Double("--rate", 50) * 1e6 / 8,
            SlowShare = cl.Double("--slow-share", 0.1),
            SlowFactor = cl.Double("--slow-factor", 5),
            LeaveShare = cl.Double("--leave-share", 0.02),
            Degree = cl.Int("--degree", 40),
            SuperSeeding = Enum.Parse<SuperSeedMode>(cl.Text("--super-seed", new SeedOptions().SuperSeeding.ToString()), ignoreCase: true),
            Step = cl.Double("--step", 0.01),
            Seed = cl.Int("--seed", 1),
        };
        Console.WriteLine(FormattableString.Invariant($"simulate: {Swarm.CommandLine.FormatSize(template.ImageBytes)} in {Swarm.CommandLine.FormatSize(template.PieceLength)} pieces, links {template.LinkRate * 8 / 1e6:F0} Mbit/s, {template.SlowShare:P0} of targets at 1/{template.SlowFactor:F0} of that, {template.LeaveShare:P0} leave at {template.LeaveAt:P0} of the bound, {template.Degree} peers each, seed super-seeding {template.SuperSeeding}, step {template.Step * 1000:F0} ms"));
        Console.WriteLine($"{"targets",7} {"slow",5} {"left",5} {"T_fast",8} {"fast/bound",10} {"T_all",8} {"all/bound",9} {"multicast",9} {"mc fast/bound",13} {"seed sent",9} {"wall",6}");
        var csv = new StringBuilder(Header).Append('\n');
        int status = 0;
        foreach (int targets in sizes)
        {
            long start = Stopwatch.GetTimestamp();
            SimulationResult r = new SwarmSimulation(template with { Targets = targets }).Run();
            double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (!r.AllRemainingCompleted)
            {
                Console.WriteLine($"{targets,7}: not every remaining target completed within {template.TimeLimit} simulated seconds");
                status = 1;
                continue;
            }

            if (cl.Flag("--trace"))
            {
                PrintTimeline(targets, r.Timeline);
            }

            double seedImages = r.SeedUploaded / (double)template.ImageBytes;
            Console.WriteLine(FormattableString.Invariant($"{targets,7} {r.SlowTargets.Count,5} {r.LeftTargets.Count,5} {r.TFast,7:F1}s {r.TFast / r.BoundFast,9:F2}x {r.TAll,7:F1}s {r.TAll / r.BoundAll,8:F2}x {r.Multicast,8:F1}s {r.Multicast / r.BoundFast,12:F2}x {seedImages,8:F2}x {wall,5:F0}s"));
            csv.Append(CultureInfo.InvariantCulture, $"{targets},{r.SlowTargets.Count},{r.LeftTargets.Count},{r.TFast:F2},{r.BoundFast:F2},{r.TFast / r.BoundFast:F3},{r.TAll:F2},{r.BoundAll:F2},{r.TAll / r.BoundAll:F3},{r.Multicast:F2},{r.Multicast / r.BoundFast:F3},{r.Multicast / r.BoundAll:F3},{seedImages:F3},{wall:F1}\n");
        }

        Console.WriteLine("T_fast: the last fast target; T_all: the last remaining target; bound: the fluid bound of that set (seed link, slowest download, swarm upload); multicast sends to all at the slowest receiver's rate.");
        if (cl.Text("--csv") is { } path)
        {
            await File.WriteAllTextAsync(path, csv.ToString()).ConfigureAwait(false);
            Console.WriteLine($"CSV: {path}");
        }
        else
        {
            Console.Write(csv);
        }

        return status;
    }

    // Where the image is, second by second: the seed's bytes, the targets' (mean and least), the pieces they hold, and the
    // seed's first pass (pieces some target holds, first copies still on their way).
    private static void PrintTimeline(int targets, IReadOnlyList<SimulationSample> timeline)
    {
        Console.WriteLine($"{"targets",7} {"t",5} {"seed sent",10} {"received",9} {"least",9} {"pieces",7} {"on targets",10} {"1st in flight",13}");
        foreach (SimulationSample s in timeline)
        {
            Console.WriteLine(FormattableString.Invariant($"{targets,7} {s.Time,4:F0}s {s.SeedSent / 1048576.0,6:F1} MiB {s.MeanReceived / 1048576.0,5:F1} MiB {s.MinReceived / 1048576.0,5:F1} MiB {s.MeanPieces,7:F1} {s.PiecesOnTargets,10} {s.FirstCopiesInFlight,13}"));
        }
    }
}

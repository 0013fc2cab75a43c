namespace BlockTorrent.Benchmarks.Simulation;

/// <summary>
/// What a <see cref="SwarmSimulation"/> run gives: when each target finished, against the fluid bounds and against
/// multicast, which sends to every receiver at the slowest one's rate.
/// </summary>
/// <param name="Options">The swarm that ran.</param>
/// <param name="CompletionTimes">Each target's completion time in seconds, null for one that left or never finished.</param>
/// <param name="LeftTargets">The targets that left part-way.</param>
/// <param name="SlowTargets">The targets on slow links.</param>
/// <param name="SeedUploaded">The payload bytes the seed sent.</param>
/// <param name="TotalUploaded">The payload bytes every node sent.</param>
/// <param name="TotalReceived">The payload bytes every target kept (blocks that arrived for a block already in, dropped).</param>
/// <param name="Timeline">One sample a simulated second, from the start.</param>
internal sealed record SimulationResult(
    SimulationOptions Options,
    IReadOnlyList<double?> CompletionTimes,
    IReadOnlySet<int> LeftTargets,
    IReadOnlySet<int> SlowTargets,
    long SeedUploaded,
    long TotalUploaded,
    long TotalReceived,
    IReadOnlyList<SimulationSample> Timeline)
{
    /// <summary>Gets the targets that stayed.</summary>
    public IEnumerable<int> Remaining => Enumerable.Range(0, CompletionTimes.Count).Where(t => !LeftTargets.Contains(t));

    /// <summary>Gets the remaining targets on fast links.</summary>
    public IEnumerable<int> RemainingFast => Remaining.Where(t => !SlowTargets.Contains(t));

    /// <summary>Gets a value indicating whether every target that stayed finished.</summary>
    public bool AllRemainingCompleted => Remaining.All(t => CompletionTimes[t] is not null);

    /// <summary>Gets the time the last remaining target finished (T_all).</summary>
    public double TAll => Remaining.Max(t => CompletionTimes[t] ?? double.PositiveInfinity);

    /// <summary>Gets the time the last remaining fast target finished.</summary>
    public double TFast => RemainingFast.Max(t => CompletionTimes[t] ?? double.PositiveInfinity);

    /// <summary>
    /// Gets the fluid bound for every remaining target (Kumar and Ross): no target finishes before the seed has sent the
    /// image once, before its own download link has carried it, nor before the swarm's whole upload (every node's,
    /// the leavers' included, which only lowers the bound) has carried one image per remaining target.
    /// </summary>
    public double BoundAll => Bound(Remaining);

    /// <summary>Gets the same bound for the remaining fast targets alone.</summary>
    public double BoundFast => Bound(RemainingFast);

    /// <summary>Gets multicast's time: every receiver gets the image at the slowest remaining receiver's rate.</summary>
    public double Multicast => Options.ImageBytes / Remaining.Min(Link);

    private double Bound(IEnumerable<int> targets)
    {
        int[] set = [.. targets];
        double image = Options.ImageBytes;
        double upload = Options.LinkRate + Enumerable.Range(0, CompletionTimes.Count).Sum(Link);
        return Math.Max(Math.Max(image / Options.LinkRate, image / set.Min(Link)), set.Length * image / upload);
    }

    // A target's link rate, the same both ways.
    private double Link(int target) => SlowTargets.Contains(target) ? Options.LinkRate / Options.SlowFactor : Options.LinkRate;
}

namespace BlockTorrent.Benchmarks.Simulation;

/// <summary>The swarm a <see cref="SwarmSimulation"/> runs: its size, links, departures and the defaults it runs with.</summary>
internal sealed record SimulationOptions
{
    /// <summary>Gets the number of targets (the seed is extra).</summary>
    public int Targets { get; init; } = 100;

    /// <summary>Gets the image size in bytes.</summary>
    public long ImageBytes { get; init; } = 64L << 20;

    /// <summary>Gets the piece length in bytes.</summary>
    public int PieceLength { get; init; } = 256 << 10;

    /// <summary>Gets the link rate of the seed and of every fast target, both ways, in bytes per second.</summary>
    public double LinkRate { get; init; } = 50e6 / 8;

    /// <summary>Gets the share of targets on slow links.</summary>
    public double SlowShare { get; init; } = 0.1;

    /// <summary>Gets how many times slower a slow target's link is, both ways.</summary>
    public double SlowFactor { get; init; } = 5;

    /// <summary>Gets the share of targets that leave part-way (at least one when the share is above zero).</summary>
    public double LeaveShare { get; init; } = 0.02;

    /// <summary>Gets when the leaving targets leave, as a share of the fast targets' fluid bound.</summary>
    public double LeaveAt { get; init; } = 0.5;

    /// <summary>Gets how many other targets each target is connected to, about (a tracker's answer plus PEX).</summary>
    public int Degree { get; init; } = 40;

    /// <summary>Gets how the seed announces its pieces; the default is the library's, adaptive super-seeding.</summary>
    public SuperSeedMode SuperSeeding { get; init; } = new SeedOptions().SuperSeeding;

    /// <summary>Gets the simulation's time step in seconds: bandwidth is shared and requests refilled once per step.</summary>
    public double Step { get; init; } = 0.01;

    /// <summary>Gets the seed of every random choice, so a run is repeatable.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Gets the simulated time after which a run gives up (a stalled swarm fails instead of spinning).</summary>
    public double TimeLimit { get; init; } = 3600;
}

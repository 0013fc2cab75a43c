namespace BlockTorrent.Benchmarks.Simulation;

/// <summary>One second of a <see cref="SwarmSimulation"/> run: where the image is, to see where the time goes.</summary>
/// <param name="Time">The simulated time in seconds.</param>
/// <param name="SeedSent">The payload bytes the seed has sent so far.</param>
/// <param name="MeanReceived">The payload bytes the targets have received so far, on average.</param>
/// <param name="MinReceived">The payload bytes the target that received least has received so far.</param>
/// <param name="MeanPieces">The pieces the targets hold, on average.</param>
/// <param name="PiecesOnTargets">The pieces some target holds (the seed's first pass, as far as it has arrived).</param>
/// <param name="FirstCopiesInFlight">The pieces the super-seed has offered that no target holds yet (0 for a plain seed).</param>
internal readonly record struct SimulationSample(
    double Time,
    long SeedSent,
    double MeanReceived,
    long MinReceived,
    double MeanPieces,
    int PiecesOnTargets,
    int FirstCopiesInFlight);

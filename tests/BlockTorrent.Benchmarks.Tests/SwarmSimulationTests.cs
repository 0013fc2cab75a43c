using BlockTorrent.Benchmarks.Simulation;

namespace BlockTorrent.Benchmarks.Tests;

/// <summary>
/// The swarm simulation (benchmarks/README.md) at a small size: invariants any run must keep, whatever the policy's
/// figures are. Timings are the figures' business, not these tests'.
/// </summary>
public sealed class SwarmSimulationTests
{
    private static readonly SimulationOptions Small = new()
    {
        Targets = 20,
        ImageBytes = 16L << 20,
        PieceLength = 256 << 10,
        LinkRate = 50e6 / 8,
        SlowShare = 0.1,
        SlowFactor = 5,
        LeaveShare = 0.1,
        Degree = 8,
    };

    [Theory]
    [InlineData(SuperSeedMode.Adaptive)]
    [InlineData(SuperSeedMode.Always)]
    [InlineData(SuperSeedMode.Never)]
    public void EveryTargetThatStaysGetsTheWholeImageAndNoneFinishesBeforeTheFluidBound(SuperSeedMode superSeeding)
    {
        var simulation = new SwarmSimulation(Small with { SuperSeeding = superSeeding });

        SimulationResult result = simulation.Run();

        Assert.True(result.AllRemainingCompleted, $"unfinished targets: {string.Join(", ", result.Remaining.Where(t => result.CompletionTimes[t] is null))}");
        Assert.Equal(2, result.SlowTargets.Count);
        Assert.Equal(2, result.LeftTargets.Count);
        Assert.All(result.LeftTargets, t => Assert.Null(result.CompletionTimes[t]));
        Assert.True(result.TFast >= result.BoundFast, $"fast targets done at {result.TFast} s, before their bound {result.BoundFast} s");
        Assert.True(result.TAll >= result.BoundAll, $"all done at {result.TAll} s, before the bound {result.BoundAll} s");
        Assert.All(result.RemainingFast, t => Assert.True(result.CompletionTimes[t] >= Small.ImageBytes / Small.LinkRate));
    }

    [Fact]
    public void NoByteArrivesThatWasNotSentAndTheSeedSendsTheImageAtLeastOnce()
    {
        SimulationResult result = new SwarmSimulation(Small).Run();

        int finished = result.Remaining.Count();
        Assert.True(result.SeedUploaded >= Small.ImageBytes, $"the seed sent {result.SeedUploaded} bytes of a {Small.ImageBytes}-byte image");
        Assert.True(result.TotalReceived <= result.TotalUploaded, $"received {result.TotalReceived} > sent {result.TotalUploaded}");
        Assert.True(result.TotalReceived >= finished * Small.ImageBytes, $"received {result.TotalReceived} for {finished} complete images");
    }

    [Fact]
    public void MulticastWaitsForTheSlowestReceiverAndTheSwarmDoesNot()
    {
        SimulationResult result = new SwarmSimulation(Small with { LeaveShare = 0 }).Run();

        Assert.Equal(Small.ImageBytes / (Small.LinkRate / Small.SlowFactor), result.Multicast, 6);
        Assert.True(result.TFast < result.Multicast, $"fast targets at {result.TFast} s, multicast {result.Multicast} s");
    }

    [Fact]
    public void TheTimelineSamplesEverySecondAndNeverRunsBackwards()
    {
        SimulationResult result = new SwarmSimulation(Small with { LeaveShare = 0 }).Run();

        IReadOnlyList<SimulationSample> timeline = result.Timeline;
        Assert.InRange(timeline.Count, Math.Ceiling(result.TAll), Math.Floor(result.TAll) + 1);
        int pieces = (int)(Small.ImageBytes / Small.PieceLength);
        for (int i = 0; i < timeline.Count; i++)
        {
            SimulationSample s = timeline[i];
            Assert.Equal(i, s.Time, 6);
            Assert.InRange(s.MinReceived, 0, s.MeanReceived);
            Assert.InRange(s.PiecesOnTargets, 0, pieces);
            Assert.InRange(s.MeanPieces, 0, s.PiecesOnTargets);
            if (i > 0)
            {
                SimulationSample before = timeline[i - 1];
                Assert.True(s.SeedSent >= before.SeedSent && s.MinReceived >= before.MinReceived && s.PiecesOnTargets >= before.PiecesOnTargets, $"second {i} ran backwards: {before} then {s}");
            }
        }

        Assert.Equal(0, timeline[0].SeedSent);
    }

    [Fact]
    public void ARunIsRepeatableFromItsSeed()
    {
        SimulationResult first = new SwarmSimulation(Small).Run();
        SimulationResult second = new SwarmSimulation(Small).Run();

        Assert.Equal(first.CompletionTimes, second.CompletionTimes);
    }
}

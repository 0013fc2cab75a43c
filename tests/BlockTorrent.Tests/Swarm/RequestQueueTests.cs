using BlockTorrent.Swarm;
using BlockTorrent.Testing;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Swarm;

public sealed class RequestQueueTests
{
    private const long Frequency = 1_000_000;

    [Fact]
    public void TheDepthStaysWithinTheBoundsAndThePeersLimit() => Prop.ForAll(ArbMap.Default.ArbFor<Tuple<byte, ushort, byte>>(), PropertyCheck.ScenarioSeeds, (t, seed) => TheDepthStaysWithinTheBoundsAndThePeersLimitFor(t.Item1, t.Item2, t.Item3, seed)).CheckSeeded(maxTest: 300);

    private bool TheDepthStaysWithinTheBoundsAndThePeersLimitFor(byte min, ushort max, byte peerLimit, int seed)
    {
        int lo = Math.Max(1, (int)min);
        int hi = Math.Max(lo, (int)max);
        var queue = new RequestQueue(lo, hi, TimeSpan.FromSeconds(3), 0, Frequency) { PeerLimit = Math.Max(1, (int)peerLimit) };
        var random = new Random(seed);
        long now = 0;
        for (int i = 0; i < 2000; i++)
        {
            now += random.Next(0, 5000);
            queue.OnBlockReceived(random.Next(1, PiecePicker.BlockSize + 1), now);
            int depth = queue.Depth;
            int upper = Math.Min(hi, queue.PeerLimit);
            if (depth < Math.Min(lo, upper) || depth > upper)
            {
                return false;
            }
        }

        return true;
    }

    [Fact]
    public void SlowStartGrowsTheQueueWithEveryBlock()
    {
        var queue = new RequestQueue(4, 500, TimeSpan.FromSeconds(3), 0, Frequency);
        Assert.Equal(4, queue.Depth);
        for (int i = 0; i < 10; i++)
        {
            queue.OnBlockReceived(PiecePicker.BlockSize, i);
        }

        Assert.Equal(14, queue.Depth);
    }

    [Fact]
    public void AFastSteadyPeerGetsRateTimesQueueTimeRequests()
    {
        var queue = new RequestQueue(4, 500, TimeSpan.FromSeconds(3), 0, Frequency);
        long now = 0;

        // 10 MB/s for five seconds: 640 blocks a second.
        for (int i = 0; i < 3200; i++)
        {
            now += Frequency / 640;
            queue.OnBlockReceived(PiecePicker.BlockSize, now);
        }

        Assert.False(queue.InSlowStart);
        Assert.Equal(500, queue.Depth);
        queue.PeerLimit = 250;
        Assert.Equal(250, queue.Depth);
    }

    /// <summary>
    /// A peer with a link of <c>capacity</c> and a round trip of <c>roundTrip</c> delivers what the pipeline asks for,
    /// at most depth blocks per round trip and never faster than its link. Whatever the distance, the queue's depth
    /// lets the rate reach the link, or the depth cap: the pipeline covers twice the kernel's round trip, so a peer
    /// farther away than the queue time is not starved (without the round trip, the depth shrinks with the rate it
    /// allows, window after window, down to the minimum).
    /// </summary>
    [Fact]
    public void AnyPeerNearOrFarReachesItsLinkRateOrTheDepthCap() => Prop.ForAll(PropertyCheck.ScenarioSeeds, seed => AnyPeerNearOrFarReachesItsLinkRateOrTheDepthCapFor(seed)).CheckSeeded(maxTest: 200);

    private bool AnyPeerNearOrFarReachesItsLinkRateOrTheDepthCapFor(int seed)
    {
        // The distance and the link come from the seed, spread evenly: 1 ms to 3 s,
        // and 256 KiB/s to 256 MiB/s in powers of two.
        var random = new Random(seed);
        double roundTrip = 0.001 + (random.NextDouble() * 2.999);
        double capacity = 256.0 * 1024 * (1 << random.Next(0, 11));
        var queue = new RequestQueue(4, 500, TimeSpan.FromSeconds(0.5), 0, Frequency) { RoundTrip = TimeSpan.FromSeconds(roundTrip) };
        double reachable = Math.Min(capacity, 500.0 * PiecePicker.BlockSize / roundTrip);
        double rate = Deliver(queue, roundTrip, capacity, TimeSpan.FromSeconds(60));
        return rate >= 0.8 * reachable;
    }

    [Fact]
    public void APeerTwoSecondsAwayIsAskedForTwiceTheRoundTripOfItsRate()
    {
        var queue = new RequestQueue(4, 500, TimeSpan.FromSeconds(0.5), 0, Frequency) { RoundTrip = TimeSpan.FromSeconds(2) };
        double rate = Deliver(queue, roundTrip: 2, capacity: 1024 * 1024, TimeSpan.FromSeconds(120));

        Assert.InRange(rate, 0.8 * 1024 * 1024, 1024 * 1024);
        Assert.InRange(queue.Depth, 4 * 1024 * 1024 / PiecePicker.BlockSize * 0.8, 500);
    }

    // Simulates the peer in 10 ms steps for a while: each step it delivers min(link, depth blocks per round trip)
    // worth of whole blocks; returns the rate it delivered over the last ten seconds.
    private static double Deliver(RequestQueue queue, double roundTrip, double capacity, TimeSpan duration)
    {
        const double Step = 0.01;
        double owed = 0;
        double lastTen = 0;
        int steps = (int)(duration.TotalSeconds / Step);
        for (int i = 0; i < steps; i++)
        {
            long now = (long)(i * Step * Frequency);
            owed += Math.Min(capacity, queue.Depth * (double)PiecePicker.BlockSize / roundTrip) * Step;
            while (owed >= PiecePicker.BlockSize)
            {
                owed -= PiecePicker.BlockSize;
                queue.OnBlockReceived(PiecePicker.BlockSize, now);
                if (i >= steps - (int)(10 / Step))
                {
                    lastTen += PiecePicker.BlockSize;
                }
            }

            queue.Tick(now);
        }

        return lastTen / 10;
    }
}

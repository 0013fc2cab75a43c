using BlockTorrent.Swarm;
using FsCheck.Xunit;

namespace BlockTorrent.Tests.Swarm;

public sealed class RequestQueueTests
{
    private const long Frequency = 1_000_000;

    [Property(MaxTest = 300)]
    public bool TheDepthStaysWithinTheBoundsAndThePeersLimit(byte min, ushort max, byte peerLimit, int seed)
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
}

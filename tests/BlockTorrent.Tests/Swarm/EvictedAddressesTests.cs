using System.Net;
using BlockTorrent.Swarm;

namespace BlockTorrent.Tests.Swarm;

/// <summary>An address whose peer gave nothing and lost its slot may not take another's slot for a while.</summary>
public sealed class EvictedAddressesTests
{
    private const long Frequency = 1000;
    private static readonly IPAddress Idle = IPAddress.Parse("203.0.113.7");
    private static readonly IPAddress Other = IPAddress.Parse("203.0.113.8");

    [Fact]
    public void AnEvictedAddressIsRememberedForItsMemoryAndThenForgotten()
    {
        var evicted = new EvictedAddresses(Frequency);
        long memory = (long)(EvictedAddresses.Memory.TotalSeconds * Frequency);

        evicted.Add(Idle, now: 0);

        Assert.True(evicted.Contains(Idle, now: memory - 1));
        Assert.False(evicted.Contains(Other, now: 1));
        Assert.False(evicted.Contains(Idle, now: memory));
    }

    [Fact]
    public void AnIPv4MappedAddressIsTheSameAddress()
    {
        var evicted = new EvictedAddresses(Frequency);

        evicted.Add(Idle.MapToIPv6(), now: 0);

        Assert.True(evicted.Contains(Idle, now: 1));
    }

    [Fact]
    public void AnotherEvictionRestartsTheMemory()
    {
        var evicted = new EvictedAddresses(Frequency);
        long memory = (long)(EvictedAddresses.Memory.TotalSeconds * Frequency);
        evicted.Add(Idle, now: 0);

        evicted.Add(Idle, now: memory / 2);

        Assert.True(evicted.Contains(Idle, now: memory));
    }

    [Fact]
    public void BeyondItsCapacityTheOldestAddressIsForgottenFirst()
    {
        var evicted = new EvictedAddresses(Frequency);
        for (int i = 0; i < EvictedAddresses.Capacity; i++)
        {
            evicted.Add(new IPAddress([10, 0, (byte)(i >> 8), (byte)i]), now: i);
        }

        evicted.Add(Idle, now: EvictedAddresses.Capacity);

        Assert.False(evicted.Contains(new IPAddress([10, 0, 0, 0]), now: EvictedAddresses.Capacity));
        Assert.True(evicted.Contains(new IPAddress([10, 0, 0, 1]), now: EvictedAddresses.Capacity));
        Assert.True(evicted.Contains(Idle, now: EvictedAddresses.Capacity));
    }
}

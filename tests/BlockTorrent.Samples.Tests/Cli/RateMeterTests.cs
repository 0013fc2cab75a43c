using BlockTorrent.Cli.Progress;
using Microsoft.Extensions.Time.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

public sealed class RateMeterTests
{
    [Fact]
    public void ASteadyCounterConvergesToItsRate()
    {
        var time = new FakeTimeProvider();
        var meter = new RateMeter(time);
        long bytes = 0;
        meter.Sample(bytes);
        for (int i = 0; i < 50; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(500));
            bytes += 5_000_000;
            meter.Sample(bytes);
        }

        Assert.InRange(meter.Rate, 9_900_000, 10_100_000);
    }
}

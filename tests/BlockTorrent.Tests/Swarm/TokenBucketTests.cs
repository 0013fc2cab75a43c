using BlockTorrent.Swarm.Bandwidth;
using BlockTorrent.Testing;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.Extensions.Time.Testing;

namespace BlockTorrent.Tests.Swarm;

public sealed class TokenBucketTests
{
    private const long Rate = 1024 * 1024;

    [Fact]
    public void AFullBucketLetsItsCapacityGoWithoutWaiting()
    {
        var bucket = new TokenBucket(Rate, new FakeTimeProvider());

        Assert.Equal(TimeSpan.Zero, bucket.Take((long)bucket.Capacity));
        Assert.Equal(0, bucket.Available, 3);
    }

    [Fact]
    public void ATakeBeyondWhatTheBucketHoldsWaitsForTheDebtAtTheRate()
    {
        var bucket = new TokenBucket(Rate, new FakeTimeProvider());
        bucket.Take((long)bucket.Capacity);

        TimeSpan wait = bucket.Take(Rate / 2);

        Assert.Equal(TimeSpan.FromSeconds(0.5), wait);
        Assert.Equal(-Rate / 2, bucket.Available, 3);
    }

    [Fact]
    public void TheNextCallerWaitsBehindTheDebtOfThoseBeforeIt()
    {
        var bucket = new TokenBucket(Rate, new FakeTimeProvider());
        bucket.Take((long)bucket.Capacity);
        bucket.Take(Rate / 4);

        Assert.Equal(TimeSpan.FromSeconds(0.5), bucket.Take(Rate / 4));
    }

    [Fact]
    public void BytesRefundedPayTheDebtTheyMade()
    {
        var bucket = new TokenBucket(Rate, new FakeTimeProvider());
        bucket.Take((long)bucket.Capacity);
        bucket.Take(Rate / 2);

        bucket.Refund(Rate / 2);

        Assert.Equal(0, bucket.Available, 3);
        Assert.Equal(TimeSpan.Zero, bucket.TimeUntil(0));
    }

    [Fact]
    public void ARefundNeverFillsTheBucketBeyondItsCapacity()
    {
        var bucket = new TokenBucket(Rate, new FakeTimeProvider());
        bucket.Take(1000);

        bucket.Refund(Rate);

        Assert.Equal(bucket.Capacity, bucket.Available, 3);
    }

    [Fact]
    public void TheBucketRefillsAtItsRateUpToItsCapacity()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(Rate, time);
        bucket.Take((long)bucket.Capacity);

        time.Advance(TimeSpan.FromSeconds(0.05));
        Assert.Equal(Rate * 0.05, bucket.Available, 3);
        Assert.Equal(0.05, bucket.TimeUntil((long)(Rate * 0.1)).TotalSeconds, 3);

        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(bucket.Capacity, bucket.Available, 3);
    }

    [Fact]
    public void ASlowRateStillHoldsAFewBlocks()
    {
        var bucket = new TokenBucket(10_000, new FakeTimeProvider());

        Assert.Equal(TokenBucket.MinimumCapacity, bucket.Capacity);
    }

    [Fact]
    public void ALimitOfTwoBucketsWaitsForTheSlowerAndChargesBoth()
    {
        var time = new FakeTimeProvider();
        var client = new TokenBucket(4 * Rate, time);
        var image = new TokenBucket(Rate, time);
        var limit = new RateLimit(client, image);
        limit.Take((long)image.Capacity);

        TimeSpan wait = limit.Take(Rate);

        Assert.Equal(TimeSpan.FromSeconds(1), wait);
        Assert.Equal(client.Capacity - image.Capacity - Rate, client.Available, 3);
        Assert.False(RateLimit.None.IsLimited);
        Assert.Equal(TimeSpan.Zero, RateLimit.None.Take(long.MaxValue));
    }

    [Fact]
    public async Task ARateDelayEndsWhenItsTimeHasPassed()
    {
        var time = new FakeTimeProvider();
        using var delay = new RateDelay(time);

        ValueTask first = delay.WaitAsync(TimeSpan.FromMilliseconds(200), CancellationToken.None);
        Assert.False(first.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(200));
        await first.AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        // The same delay serves the next wait.
        ValueTask second = delay.WaitAsync(TimeSpan.FromMilliseconds(100), CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(100));
        await second.AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        Assert.True(delay.WaitAsync(TimeSpan.Zero, CancellationToken.None).IsCompletedSuccessfully);
    }

    [Fact]
    public async Task ARateDelayEndsWithCancellationWhenItsTokenIsCancelled()
    {
        using var delay = new RateDelay(new FakeTimeProvider());
        using var cts = new CancellationTokenSource();

        ValueTask wait = delay.WaitAsync(TimeSpan.FromHours(1), cts.Token);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait.AsTask().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));
    }

    [Fact]
    public void CallersThatHonourTheWaitsGetTheRateAndNeverMoreThanAFullBucketBeyondIt()
    {
        // Callers take blocks of any size, each then waiting what the bucket said, or pausing longer; over the
        // whole run they never get more than a full bucket plus the rate times the time, and callers that never
        // pause get at least the rate times the time.
        Gen<(long Rate, (int Bytes, int PauseMs)[] Takes)> runs =
            from rate in Gen.Choose(10_000, 100_000_000)
            from takes in Gen.ArrayOf(Gen.Zip(Gen.Choose(1, 4 * 1024 * 1024), Gen.Frequency((3, Gen.Constant(0)), (1, Gen.Choose(0, 2000)))))
            select ((long)rate, takes);
        Prop.ForAll(runs.ToArbitrary(), run =>
        {
            var time = new FakeTimeProvider();
            var bucket = new TokenBucket(run.Rate, time);
            DateTimeOffset start = time.GetUtcNow();
            double taken = 0;
            bool paused = false;
            foreach ((int bytes, int pauseMs) in run.Takes)
            {
                TimeSpan wait = bucket.Take(bytes);
                taken += bytes;
                time.Advance(wait > TimeSpan.FromMilliseconds(pauseMs) ? RoundUp(wait) : TimeSpan.FromMilliseconds(pauseMs));
                paused |= pauseMs > 0;
            }

            double seconds = (time.GetUtcNow() - start).TotalSeconds;
            double allowed = bucket.Capacity + (run.Rate * seconds);

            // A fake clock moves in whole ticks: each wait rounds up by less than one tick's bytes.
            double slack = run.Takes.Length * (run.Rate / (double)TimeSpan.TicksPerSecond) + 1;
            bool withinCap = taken <= allowed + slack;
            bool fullWhenBusy = paused || taken >= (run.Rate * seconds) - slack;
            return (withinCap && fullWhenBusy).Label($"rate {run.Rate}, {run.Takes.Length} takes: {taken} taken, {allowed} allowed");
        }).CheckSeeded(maxTest: 300);
    }

    private static TimeSpan RoundUp(TimeSpan wait) => TimeSpan.FromTicks((long)Math.Ceiling(wait.TotalSeconds * TimeSpan.TicksPerSecond));
}

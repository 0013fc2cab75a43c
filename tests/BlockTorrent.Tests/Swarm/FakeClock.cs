using Microsoft.Extensions.Time.Testing;

namespace BlockTorrent.Tests.Swarm;

/// <summary>Moves a <see cref="FakeTimeProvider"/> the way the engine's timers expect: a second at a time.</summary>
internal static class FakeClock
{
    // Fake time advances one second at a time, so the engine's once-a-second tick sees every step.
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Moves the fake clock a step at a time until <paramref name="done"/> completes, giving the engine up to a
    /// little real time after each step to act on it; fails when <paramref name="maxFake"/> of fake time passes first.
    /// </summary>
    public static async Task AdvanceUntilAsync(FakeTimeProvider time, Task done, TimeSpan maxFake, CancellationToken ct)
    {
        for (TimeSpan advanced = TimeSpan.Zero; !done.IsCompleted; advanced += Step)
        {
            Assert.True(advanced < maxFake, $"nothing happened in {maxFake} of fake time");
            time.Advance(Step);
            await Task.WhenAny(done, Task.Delay(TimeSpan.FromMilliseconds(20), ct));
        }
    }
}

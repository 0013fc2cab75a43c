using Xunit;

namespace BlockTorrent.Testing;

/// <summary>Waits for a condition with a bound, instead of sleeping for a guessed time.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds, failing the test when <paramref name="timeout"/> passes.</summary>
    /// <param name="condition">The condition to wait for.</param>
    /// <param name="timeout">How long to wait at most.</param>
    /// <param name="what">What is awaited, for the failure message.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the condition holds.</returns>
    public static Task TrueAsync(Func<bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken = default) =>
        TrueAsync(condition, timeout, () => what, cancellationToken);

    /// <summary>
    /// Polls <paramref name="condition"/> until it holds, failing the test when <paramref name="timeout"/> passes
    /// with a message built only then (e.g. to include a program's output so far).
    /// </summary>
    /// <param name="condition">The condition to wait for.</param>
    /// <param name="timeout">How long to wait at most.</param>
    /// <param name="what">Describes what is awaited, for the failure message.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the condition holds.</returns>
    public static async Task TrueAsync(Func<bool> condition, TimeSpan timeout, Func<string> what, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(what);
        var deadline = DateTime.UtcNow + timeout;
        int delay = 5;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"Timed out after {timeout} waiting for {what()}.");
            }

            await Task.Delay(delay, cancellationToken);
            delay = Math.Min(delay * 2, 200);
        }
    }
}

using System.Threading.Tasks.Sources;

namespace BlockTorrent.Swarm.Bandwidth;

/// <summary>
/// A reusable delay for one waiting loop (a connection's send loop, a web seed's reader): a wait allocates nothing,
/// unlike <see cref="Task.Delay(TimeSpan, TimeProvider, CancellationToken)"/>, so a rate-limited loop may wait before
/// every block.
/// </summary>
/// <remarks>Invariant: at most one <see cref="WaitAsync"/> is outstanding, and its task is awaited once.</remarks>
internal sealed class RateDelay : IValueTaskSource, IDisposable
{
    private readonly ITimer _timer;
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;
    private int _pending;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="time">The clock whose timer wakes the waiter.</param>
    public RateDelay(TimeProvider time)
    {
        _timer = time.CreateTimer(static s => ((RateDelay)s!).Finish(null), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Waits for <paramref name="delay"/>, completing at once when it is not positive.</summary>
    /// <param name="delay">How long.</param>
    /// <param name="cancellationToken">Ends the wait with <see cref="OperationCanceledException"/>.</param>
    /// <returns>A task that completes when the time is up.</returns>
    public ValueTask WaitAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero)
        {
            return default;
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        _core.Reset();
        Volatile.Write(ref _pending, 1);
        _registration = cancellationToken.UnsafeRegister(static (s, token) => ((RateDelay)s!).Finish(new OperationCanceledException(token)), this);
        _timer.Change(delay, Timeout.InfiniteTimeSpan);
        return new ValueTask(this, _core.Version);
    }

    /// <summary>Stops the timer; a wait still outstanding ends when its token is cancelled.</summary>
    public void Dispose() => _timer.Dispose();

    /// <inheritdoc/>
    void IValueTaskSource.GetResult(short token)
    {
        _registration.Dispose();
        _core.GetResult(token);
    }

    /// <inheritdoc/>
    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    /// <inheritdoc/>
    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private void Finish(Exception? error)
    {
        // The timer and the token race: whichever comes first ends the wait, the other finds nothing pending.
        if (Interlocked.Exchange(ref _pending, 0) == 0)
        {
            return;
        }

        if (error is null)
        {
            _core.SetResult(true);
        }
        else
        {
            _core.SetException(error);
        }
    }
}

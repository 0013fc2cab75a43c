using System.Threading.Tasks.Sources;

namespace BlockTorrent.Swarm;

/// <summary>
/// A reusable wake-up for one waiting loop: <see cref="Set"/> from any thread, <see cref="WaitAsync"/> from the one
/// consumer. Sets while nobody waits are remembered as one (they coalesce), and a wait allocates nothing, unlike a
/// channel read that has to park, so it can be signalled for every block.
/// </summary>
/// <remarks>
/// Invariant: at most one <see cref="WaitAsync"/> is outstanding; its <see cref="ValueTask{TResult}"/> is awaited
/// once. The result is <see langword="false"/> once <see cref="Complete"/> was called.
/// </remarks>
internal sealed class AsyncSignal : IValueTaskSource<bool>
{
    private const int Idle = 0;
    private const int Signalled = 1;
    private const int Waiting = 2;
    private const int Completed = 3;

    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
    private int _state;

    /// <summary>Wakes the waiter, or makes the next wait return at once.</summary>
    public void Set()
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            switch (state)
            {
                case Signalled or Completed:
                    return;
                case Idle when Interlocked.CompareExchange(ref _state, Signalled, Idle) == Idle:
                    return;
                case Waiting when Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting:
                    _core.SetResult(true);
                    return;
            }
        }
    }

    /// <summary>Ends the signal: the current and every later wait returns <see langword="false"/>.</summary>
    public void Complete()
    {
        if (Interlocked.Exchange(ref _state, Completed) == Waiting)
        {
            _core.SetResult(false);
        }
    }

    /// <summary>Waits for a <see cref="Set"/>; <see langword="false"/> when completed.</summary>
    public ValueTask<bool> WaitAsync()
    {
        while (true)
        {
            int state = Volatile.Read(ref _state);
            if (state == Completed)
            {
                return new ValueTask<bool>(false);
            }

            if (state == Signalled && Interlocked.CompareExchange(ref _state, Idle, Signalled) == Signalled)
            {
                return new ValueTask<bool>(true);
            }

            if (state == Idle)
            {
                _core.Reset();
                if (Interlocked.CompareExchange(ref _state, Waiting, Idle) == Idle)
                {
                    return new ValueTask<bool>(this, _core.Version);
                }
            }
        }
    }

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}

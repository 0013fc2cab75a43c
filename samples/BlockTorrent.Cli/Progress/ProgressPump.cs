namespace BlockTorrent.Cli.Progress;

/// <summary>
/// Samples a running operation on a timer and feeds the view, so the view is driven at a steady pace whatever
/// rate (and from whatever threads) the operation reports at. All calls into the view are serialized here.
/// </summary>
internal sealed class ProgressPump : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(100);
    private readonly IProgressView _view;
    private readonly Func<TransferSnapshot> _sample;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly Task _loop;

    public ProgressPump(IProgressView view, Func<TransferSnapshot> sample)
    {
        _view = view;
        _sample = sample;
        _loop = RunAsync();
    }

    /// <summary>Shows an event line through the view.</summary>
    public void Event(string kind, string text)
    {
        lock (_gate)
        {
            _view.Event(kind, text);
        }
    }

    /// <summary>Stops sampling and shows the final state with a summary.</summary>
    public async Task CompleteAsync(string summary)
    {
        await StopAsync().ConfigureAwait(false);
        lock (_gate)
        {
            _view.Complete(_sample(), summary);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task StopAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }

        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        using var timer = new PeriodicTimer(Tick);
        try
        {
            // The first sample waits one tick, so the lines a command prints as it starts come first.
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                TransferSnapshot snapshot = _sample();
                lock (_gate)
                {
                    _view.Update(snapshot);
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Stopped by CompleteAsync or DisposeAsync: the final state is shown there.
        }
    }
}

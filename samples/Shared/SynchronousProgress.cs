namespace BlockTorrent.Samples;

/// <summary>
/// An <see cref="IProgress{T}"/> that runs the handler on the reporting thread. <see cref="Progress{T}"/> posts
/// to a synchronization context or the thread pool, which reorders reports and lags behind a fast producer. Compiled into both samples (samples/Shared).
/// </summary>
internal sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}

using BlockTorrent.Swarm.Bandwidth;

namespace BlockTorrent;

/// <summary>
/// The upload caps, for bytes a caller sends besides BitTorrent: an image served as an HTTP web seed, for instance.
/// Each wait takes from the same token buckets as the client's peers: the client's
/// (<see cref="BlockTorrentClientOptions.MaxUploadRate"/>) and, when the limiter has a rate of its own, a bucket
/// shared with the seed it is given to (<see cref="SeedOptions.UploadLimiter"/>), so a depot's cap per image holds for
/// its peers and its web seed together. Made by <see cref="BlockTorrentClient.CreateUploadLimiter"/>.
/// </summary>
public sealed class UploadLimiter
{
    private readonly TimeProvider _time;

    internal UploadLimiter(BlockTorrentClient owner, TokenBucket? shared, long maxUploadRate, TimeProvider time)
    {
        Owner = owner;
        MaxUploadRate = maxUploadRate;
        _time = time;
        Limit = RateLimit.For(shared, maxUploadRate, time);
    }

    /// <summary>Gets the most uploaded per second under this limiter's own bucket, on top of the client's cap; 0 when it has none.</summary>
    public long MaxUploadRate { get; }

    /// <summary>Gets a value indicating whether any cap applies, the client's or the limiter's own.</summary>
    public bool IsLimited => Limit.IsLimited;

    /// <summary>Gets the client that made the limiter (a seed takes only its own client's).</summary>
    internal BlockTorrentClient Owner { get; }

    /// <summary>Gets the buckets this limiter takes from.</summary>
    internal RateLimit Limit { get; }

    /// <summary>
    /// Takes <paramref name="bytes"/> from every bucket that applies and waits until they may be sent: at once while
    /// the buckets hold them, else for as long as the caps require. Call it before sending the bytes.
    /// </summary>
    /// <param name="bytes">The bytes about to be sent.</param>
    /// <param name="cancellationToken">Stops the wait.</param>
    /// <returns>A task that completes when the bytes may be sent.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is negative.</exception>
    /// <exception cref="OperationCanceledException">The wait was cancelled.</exception>
    public ValueTask WaitAsync(int bytes, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        if (!Limit.IsLimited)
        {
            return ValueTask.CompletedTask;
        }

        TimeSpan wait = Limit.Take(bytes);
        return wait <= TimeSpan.Zero ? ValueTask.CompletedTask : new ValueTask(Task.Delay(wait, _time, cancellationToken));
    }
}

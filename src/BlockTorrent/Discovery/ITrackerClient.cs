using BlockTorrent.Manifest;

namespace BlockTorrent.Discovery;

/// <summary>Talks to one tracker (HTTP or UDP). Implementations are safe to call from several threads.</summary>
internal interface ITrackerClient : IDisposable
{
    /// <summary>Gets the tracker's announce address.</summary>
    Uri Uri { get; }

    /// <summary>Announces to the tracker and returns its answer.</summary>
    /// <param name="request">What to announce.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The tracker's answer.</returns>
    /// <exception cref="TrackerException">The tracker refused, was unreachable, timed out or answered nonsense.</exception>
    Task<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken = default);

    /// <summary>Asks the tracker for its counters for some torrents.</summary>
    /// <param name="infoHashes">The torrents.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The counters of the torrents the tracker knows about.</returns>
    /// <exception cref="TrackerException">The tracker refused, was unreachable, timed out or answered nonsense.</exception>
    /// <exception cref="NotSupportedException">The tracker's address has no scrape convention (BEP 48).</exception>
    Task<IReadOnlyDictionary<InfoHash, ScrapeStats>> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken = default);
}

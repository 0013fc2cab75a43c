using System.Net;
using System.Security.Cryptography;
using BlockTorrent.Manifest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BlockTorrent.Discovery;

/// <summary>
/// Announces one torrent to one tracker for as long as it runs: <c>started</c> first, then at the tracker's
/// interval (never sooner than its min interval), <c>completed</c> when told, and <c>stopped</c> on dispose.
/// A failing tracker is retried after 15 s, doubling up to 30 minutes.
/// </summary>
internal sealed class TrackerPeerSource : IPeerSource
{
    private static readonly TimeSpan FirstRetry = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan LastRetry = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan StoppedTimeout = TimeSpan.FromSeconds(5);

    private readonly ITrackerClient _client;
    private readonly InfoHash _infoHash;
    private readonly ReadOnlyMemory<byte> _peerId;
    private readonly int _port;
    private readonly Func<TransferStats> _stats;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly uint _key = (uint)RandomNumberGenerator.GetInt32(int.MaxValue);
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _completed = new(0, 1);
    private Task? _loop;
    private bool _announced;

    // Set while a request may have reached the tracker: an announce that is cancelled in flight may still have
    // registered us, so leaving must say 'stopped' then too.
    private volatile bool _mayBeRegistered;

    /// <summary>Initializes a new instance; it owns <paramref name="client"/>.</summary>
    /// <param name="client">The tracker.</param>
    /// <param name="infoHash">The torrent.</param>
    /// <param name="peerId">Our peer id.</param>
    /// <param name="port">Our TCP port.</param>
    /// <param name="stats">Reads our current transfer counters.</param>
    /// <param name="timeProvider">The clock, or <see langword="null"/>.</param>
    /// <param name="logger">The logger, or <see langword="null"/>.</param>
    public TrackerPeerSource(ITrackerClient client, InfoHash infoHash, ReadOnlyMemory<byte> peerId, int port, Func<TransferStats> stats, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        _client = client;
        _infoHash = infoHash;
        _peerId = peerId;
        _port = port;
        _stats = stats;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public string Name => _client.Uri.ToString();

    /// <summary>Gets the number of successful announces (for tests and diagnostics).</summary>
    public int Announces { get; private set; }

    /// <inheritdoc />
    public void Start(Action<IReadOnlyList<IPEndPoint>, IPAddress?> onPeers)
    {
        ArgumentNullException.ThrowIfNull(onPeers);
        _loop = Task.Run(() => RunAsync(onPeers, _stop.Token));
    }

    /// <inheritdoc />
    public void NotifyCompleted()
    {
        if (_completed.CurrentCount == 0)
        {
            try
            {
                _completed.Release();
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }

        if (_announced || _mayBeRegistered)
        {
            // Best effort: a tracker that is down must not hold up leaving the swarm.
            using var timeout = new CancellationTokenSource(StoppedTimeout, _time);
            try
            {
                await _client.AnnounceAsync(Request(AnnounceEvent.Stopped), timeout.Token).ConfigureAwait(false);
            }
            catch (TrackerException e)
            {
                Log.TrackerStoppedFailed(_logger, _client.Uri, e.Message);
            }
            catch (OperationCanceledException)
            {
                // The tracker did not answer in time; it will expire us.
            }
        }

        _client.Dispose();
        _stop.Dispose();
        _completed.Dispose();
    }

    private AnnounceRequest Request(AnnounceEvent announceEvent)
    {
        TransferStats stats = _stats();
        return new AnnounceRequest
        {
            InfoHash = _infoHash,
            PeerId = _peerId,
            Port = _port,
            Uploaded = stats.Uploaded,
            Downloaded = stats.Downloaded,
            Left = stats.Left,
            Event = announceEvent,
            Key = _key,
            NumWant = announceEvent == AnnounceEvent.Stopped ? 0 : 50,
        };
    }

    private async Task RunAsync(Action<IReadOnlyList<IPEndPoint>, IPAddress?> onPeers, CancellationToken cancellationToken)
    {
        AnnounceEvent next = AnnounceEvent.Started;
        int failures = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                TimeSpan wait;
                try
                {
                    _mayBeRegistered = true;
                    AnnounceResponse response = await _client.AnnounceAsync(Request(next), cancellationToken).ConfigureAwait(false);
                    _announced = true;
                    Announces++;
                    failures = 0;
                    next = AnnounceEvent.None;
                    if (response.Peers.Count > 0)
                    {
                        // A tracker whose address is not known is taken for another host's.
                        onPeers(response.Peers, response.Source ?? IPAddress.None);
                    }

                    wait = response.MinInterval is { } min && min > response.Interval ? min : response.Interval;
                }
                catch (TrackerException e)
                {
                    // A tracker that failed the request did not register us (unless an earlier announce did).
                    _mayBeRegistered = _announced;
                    failures++;
                    wait = TimeSpan.FromTicks(Math.Min(LastRetry.Ticks, FirstRetry.Ticks << Math.Min(failures - 1, 16)));
                    Log.TrackerAnnounceFailed(_logger, _client.Uri, wait, e);
                }

                // A completion interrupts the wait: the tracker hears of it at once (after a 'started' that went through).
                if (await _completed.WaitAsync(wait, cancellationToken).ConfigureAwait(false) && _announced)
                {
                    next = AnnounceEvent.Completed;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed.
        }
    }
}

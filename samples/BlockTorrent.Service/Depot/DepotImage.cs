using BlockTorrent.Manifest;
using BlockTorrent.Service.Status;

namespace BlockTorrent.Service.Depot;

/// <summary>One image the depot knows: its status, the seed task once started, and the file stamps it was started with.</summary>
internal sealed class DepotImage(ImageStatus status, ImageStamps stamps)
{
    private CancellationTokenSource? _stop;
    private Task? _seed;

    public ImageStatus Status { get; } = status;

    /// <summary>Gets or sets the stamps of the image and its manifest when it was started; a change restarts it.</summary>
    public ImageStamps Stamps { get; set; } = stamps;

    /// <summary>Gets or sets the manifest served, once started; <see langword="null"/> before.</summary>
    public TorrentManifest? Manifest { get; set; }

    /// <summary>Gets or sets the info-hashes the depot's tracker tracks for it while it is served.</summary>
    public InfoHash[] Tracked { get; set; } = [];

    /// <summary>Gets or sets a value indicating whether the depot started it (it is served, or failed to start) rather than waiting for it to settle.</summary>
    public bool Started { get; set; }

    /// <summary>Gets or sets a value indicating whether the image changed since the depot first served it, so a manifest the depot made of it describes other bytes.</summary>
    public bool Changed { get; set; }

    public void Start(Func<CancellationToken, Task> seed, CancellationToken stopping)
    {
        _stop = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        _seed = seed(_stop.Token);
    }

    public async Task StopAsync()
    {
        if (_stop is null || _seed is null)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await _seed.ConfigureAwait(false);
        _stop.Dispose();
        _stop = null;
        _seed = null;
    }
}

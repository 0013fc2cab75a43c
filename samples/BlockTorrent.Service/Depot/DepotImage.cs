using BlockTorrent.Service.Status;

namespace BlockTorrent.Service.Depot;

/// <summary>One image the depot serves: its status, the seed task, and the file times it was started with.</summary>
internal sealed class DepotImage(ImageStatus status, (DateTime Image, DateTime Manifest) stamp)
{
    private CancellationTokenSource? _stop;
    private Task? _seed;

    public ImageStatus Status { get; } = status;

    /// <summary>Gets the last-write times of the image and its manifest when it was started; a change restarts it.</summary>
    public (DateTime Image, DateTime Manifest) Stamp { get; set; } = stamp;

    /// <summary>Reads the stamp of an image and its manifest (<see cref="DateTime.MinValue"/> for a missing file).</summary>
    public static (DateTime Image, DateTime Manifest) ReadStamp(string image, string manifest) =>
        (File.Exists(image) ? File.GetLastWriteTimeUtc(image) : DateTime.MinValue, File.Exists(manifest) ? File.GetLastWriteTimeUtc(manifest) : DateTime.MinValue);

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
    }
}

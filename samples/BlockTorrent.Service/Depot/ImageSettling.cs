namespace BlockTorrent.Service.Depot;

/// <summary>
/// Tells when an image that appeared or changed has stopped changing, so the depot never makes a manifest of (or
/// serves) a file that is still being copied in: its stamps (image and manifest) must stay the same for the settle
/// time, watched from when the depot first saw them, or the image's last change must be that long ago already (an
/// image the depot finds at start after a restart is served at once).
/// </summary>
internal sealed class ImageSettling(TimeProvider time, TimeSpan settleTime)
{
    private readonly Dictionary<string, (ImageStamps Stamps, long Since)> _watched = new(StringComparer.Ordinal);

    /// <summary>
    /// Returns whether the image named <paramref name="name"/> has settled with <paramref name="stamps"/>; if not,
    /// <paramref name="wait"/> is how long it must stay so at least.
    /// </summary>
    /// <param name="name">The image's name.</param>
    /// <param name="stamps">Its stamps now.</param>
    /// <param name="wait">How long until it can have settled, when it has not.</param>
    /// <returns>Whether it has settled.</returns>
    public bool HasSettled(string name, ImageStamps stamps, out TimeSpan wait)
    {
        long now = time.GetTimestamp();
        if (!_watched.TryGetValue(name, out (ImageStamps Stamps, long Since) watched) || watched.Stamps != stamps)
        {
            watched = (stamps, now);
            _watched[name] = watched;
        }

        TimeSpan unchanged = time.GetElapsedTime(watched.Since, now);
        TimeSpan sinceLastChange = time.GetUtcNow().UtcDateTime - stamps.LastChangeUtc;
        if (unchanged >= settleTime || sinceLastChange >= settleTime)
        {
            _watched.Remove(name);
            wait = TimeSpan.Zero;
            return true;
        }

        wait = settleTime - unchanged;
        return false;
    }

    /// <summary>Forgets an image that is gone.</summary>
    /// <param name="name">The image's name.</param>
    public void Forget(string name) => _watched.Remove(name);
}

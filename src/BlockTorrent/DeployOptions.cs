using System.Net;

namespace BlockTorrent;

/// <summary>Settings for one <see cref="BlockTorrentClient.DeployAsync(Manifest.TorrentManifest, Devices.IBlockDevice, DeployOptions?, IProgress{DeploymentProgress}?, CancellationToken)"/> call.</summary>
public sealed class DeployOptions
{
    /// <summary>Gets peers to connect to directly (a depot seed, for instance).</summary>
    public IList<IPEndPoint> Peers { get; } = [];

    /// <summary>Gets trackers to announce to, in addition to the manifest's own.</summary>
    public IList<Uri> Trackers { get; } = [];

    /// <summary>Gets or sets a value indicating whether the manifest's trackers are used.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool UseManifestTrackers { get; set; } = true;

    /// <summary>Gets or sets whether Local Service Discovery is used; <see langword="null"/> follows the client's setting.</summary>
    /// <value>The default is <see langword="null"/>.</value>
    public bool? UseLocalPeerDiscovery { get; set; }

    /// <summary>Gets or sets how long to keep seeding after the image is complete, before the call returns.</summary>
    /// <value>The default is <see cref="TimeSpan.Zero"/>: return at once.</value>
    public TimeSpan SeedAfter { get; set; }

    /// <summary>Gets or sets a value indicating whether every piece is read back from the device and checked after the final flush.</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool VerifyAfterWrite { get; set; }

    /// <summary>
    /// Gets or sets a file that records which pieces are durably on the device. When it exists and matches the image
    /// and device, those pieces are not fetched again, and the rest of the device is checked for pieces already
    /// correct. It is written when the call ends, whether it completed, failed or was cancelled.
    /// </summary>
    /// <value>The default is <see langword="null"/>: no resume file.</value>
    public string? ResumeFilePath { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the device is read first and every piece already correct on it is
    /// kept (delta re-imaging: only the pieces that differ travel).
    /// </summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool CheckExistingData { get; set; }

    /// <summary>Gets or sets a value indicating whether the device is known to read as zeros already, so all-zero pieces need no writes.</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool DeviceIsZeroed { get; set; }

    /// <summary>Checks the settings.</summary>
    /// <exception cref="ArgumentException">A setting is out of range; the message names it.</exception>
    public void Validate()
    {
        if (SeedAfter < TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(SeedAfter)} must not be negative.", nameof(SeedAfter));
        }

        if (Peers.Any(p => p is null || p.Port == 0))
        {
            throw new ArgumentException($"{nameof(Peers)} must hold endpoints with a port.", nameof(Peers));
        }
    }
}

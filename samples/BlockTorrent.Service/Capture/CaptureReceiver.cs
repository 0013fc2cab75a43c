using System.Collections.Concurrent;
using System.Net;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Service.Options;
using Microsoft.Extensions.Options;

namespace BlockTorrent.Service.Capture;

/// <summary>
/// The depot's side of <c>blocktorrent capture</c>: a capturer posts the manifest it made while reading its source,
/// and the depot joins the capturer's swarm as a downloader, writing the image into its folder under a hidden name.
/// Once every piece is verified the manifest is saved as <c>NAME.torrent</c> (not with TLS swarms, whose manifest the
/// depot makes itself, naming its authority) and the image moved to <c>NAME</c>, where the depot's scan finds it,
/// signs its manifest with the depot's key, and serves it like any other image.
/// </summary>
internal sealed class CaptureReceiver(IOptions<ImagingServiceOptions> options, ILogger<CaptureReceiver> logger, IHostApplicationLifetime lifetime)
{
    private readonly ConcurrentDictionary<string, CaptureState> _captures = new(StringComparer.Ordinal);

    /// <summary>What a capture is doing: <c>receiving</c>, <c>done</c> or <c>failed</c>.</summary>
    /// <param name="State">The state.</param>
    /// <param name="Error">Why it failed.</param>
    internal sealed record CaptureState(string State, string? Error = null);

    /// <summary>Gets a capture's state, or <see langword="null"/> when none of that name was started.</summary>
    public CaptureState? Get(string name) => _captures.TryGetValue(name, out CaptureState? state) ? state : null;

    /// <summary>Starts receiving an image; returns why it cannot, or <see langword="null"/> once it started.</summary>
    /// <param name="name">The image's file name in the depot's folder.</param>
    /// <param name="torrent">The manifest's bytes.</param>
    /// <param name="capturer">Where the capturer seeds it.</param>
    public string? Start(string name, byte[] torrent, IPEndPoint capturer)
    {
        string? folder = options.Value.Depot.ImageFolder;
        if (folder is null)
        {
            return "this depot has no image folder";
        }

        if (name.Length == 0 || name.StartsWith('.') || name.EndsWith(".torrent", StringComparison.OrdinalIgnoreCase) || name.IndexOfAny(['/', '\\', '\0']) >= 0 || name != Path.GetFileName(name))
        {
            return $"'{name}' is not a plain file name for the image folder";
        }

        string image = Path.Combine(folder, name);
        if (File.Exists(image) || File.Exists(image + ".torrent"))
        {
            return $"the depot already has an image '{name}'";
        }

        TorrentManifest manifest;
        try
        {
            manifest = TorrentManifest.Parse(torrent);
        }
        catch (InvalidTorrentException e)
        {
            return "the manifest is not a torrent this depot can use: " + e.Message;
        }

        if (!_captures.TryAdd(name, new CaptureState("receiving")))
        {
            return $"a capture of '{name}' is already under way";
        }

        Log.CaptureStarted(logger, name, capturer, manifest.Length, manifest.PieceCount);
        _ = Task.Run(() => ReceiveAsync(name, folder, manifest, capturer, lifetime.ApplicationStopping), CancellationToken.None);
        return null;
    }

    private async Task ReceiveAsync(string name, string folder, TorrentManifest manifest, IPEndPoint capturer, CancellationToken stopping)
    {
        string partial = Path.Combine(folder, "." + name + ".capture");
        try
        {
            await using (var client = new BlockTorrentClient(new BlockTorrentClientOptions { ListenEndPoint = new IPEndPoint(IPAddress.Any, 0), EnableLocalPeerDiscovery = false }))
            {
                await using FileBlockDevice device = FileBlockDevice.Create(partial, manifest.Length);
                var deploy = new DeployOptions { UseManifestTrackers = false, StallTimeout = TimeSpan.FromMinutes(2) };
                deploy.Peers.Add(capturer);
                DeploymentResult result = await client.DeployAsync(manifest, device, deploy, null, stopping).ConfigureAwait(false);
                Log.CaptureReceived(logger, name, result.BytesDownloaded, result.Duration);
            }

            // A depot with TLS swarms serves its images only to its authority's peers, which the capturer's manifest
            // (made without the depot's authority) cannot say: the image goes in without it, and the depot's scan
            // makes the depot's own manifest of it (hashing it once more), as for any image placed in its folder.
            // Otherwise the manifest goes first: an image without one would be hashed again.
            if (!options.Value.Depot.TlsSwarm)
            {
                await manifest.SaveAsync(Path.Combine(folder, name + ".torrent"), stopping).ConfigureAwait(false);
            }

            File.Move(partial, Path.Combine(folder, name));
            _captures[name] = new CaptureState("done");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Log.CaptureFailed(logger, e, name);
            _captures[name] = new CaptureState("failed", e.Message);
            try
            {
                File.Delete(partial);
            }
            catch (IOException)
            {
                // Left hidden in the folder; the next capture of this name starts it again.
            }
        }
    }
}

using System.Net;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;
using BlockTorrent.Service.Options;
using Microsoft.Extensions.Options;

namespace BlockTorrent.Service.Target;

/// <summary>
/// Gets a target's manifest from what the settings name: a .torrent path, an http(s) URL of a .torrent (retried
/// until it answers: a depot may start after its targets; an https server whose certificate is not trusted,
/// <see cref="ServerTrust"/>, fails the target at once), or a magnet link (the manifest is fetched from peers,
/// asking again until one has it, and saved in the state directory, so a restart resumes without asking again).
/// </summary>
internal sealed class ManifestSource(IOptions<ImagingServiceOptions> options, ILoggerFactory loggerFactory) : IDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("BlockTorrent.Service.Target");
    private readonly ManifestDownload _download = new(ServerTrust.Create(options.Value.Target.ServerCertificate, options.Value.Target.ServerFingerprint), TimeSpan.FromSeconds(30));

    /// <summary>Gets the fingerprint of the certificate the https server presented when it served the manifest; <see langword="null"/> before.</summary>
    public string? ServerFingerprint => _download.ServerFingerprint;

    /// <summary>Gets the folder for downloaded manifests and resume files.</summary>
    public string StateDirectory => options.Value.StateDirectory ?? ResumeFiles.StateFolder();

    public async Task<TorrentManifest> GetAsync(BlockTorrentClient client, string image, DeployOptions deployOptions, CancellationToken cancellationToken)
    {
        if (image.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase))
        {
            // The link's peers (x.pe) serve the image as well as its metadata, also after a restart that finds the
            // manifest saved: they join the deployment's peers. Its trackers (tr) travel in the manifest.
            MagnetLink magnet = MagnetLink.Parse(image);
            foreach (IPEndPoint peer in await magnet.ResolvePeersAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!deployOptions.Peers.Contains(peer))
                {
                    deployOptions.Peers.Add(peer);
                }
            }

            return await FromMagnetAsync(client, magnet, deployOptions, cancellationToken).ConfigureAwait(false);
        }

        if (ManifestDownload.IsUrl(image, out Uri uri))
        {
            return await DownloadAsync(uri, cancellationToken).ConfigureAwait(false);
        }

        return await TorrentManifest.LoadAsync(image, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _download.Dispose();

    /// <summary>Fetches the manifest at an http(s) URL, retried until the server answers.</summary>
    public async Task<TorrentManifest> DownloadAsync(Uri uri, CancellationToken cancellationToken)
    {
        TimeSpan retry = options.Value.Target.RetryInterval;
        while (true)
        {
            string reason;
            try
            {
                // A server whose certificate is refused is not retried: ServerNotTrustedException fails the target.
                return await _download.GetAsync(uri, cancellationToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e)
            {
                reason = e.Message;
            }
            catch (TimeoutException e)
            {
                reason = e.Message;
            }

            Log.ManifestRetry(_logger, uri.ToString(), reason, retry);
            await Task.Delay(retry, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<TorrentManifest> FromMagnetAsync(BlockTorrentClient client, MagnetLink magnet, DeployOptions deployOptions, CancellationToken cancellationToken)
    {
        string saved = SavedManifestPath(magnet);
        if (File.Exists(saved))
        {
            return await TorrentManifest.LoadAsync(saved, cancellationToken).ConfigureAwait(false);
        }

        Log.FetchingMetadata(_logger, magnet.ToString());
        TorrentManifest manifest;
        while (true)
        {
            try
            {
                manifest = await client.FetchManifestAsync(magnet, deployOptions, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (TimeoutException e)
            {
                // No peer had it yet (the depot or the first targets are not up): keep asking.
                TimeSpan retry = options.Value.Target.RetryInterval;
                Log.ManifestRetry(_logger, magnet.ToString(), e.Message, retry);
                await Task.Delay(retry, cancellationToken).ConfigureAwait(false);
            }
        }

        Directory.CreateDirectory(StateDirectory);
        string temporary = saved + ".tmp";
        await manifest.SaveAsync(temporary, cancellationToken).ConfigureAwait(false);
        File.Move(temporary, saved, overwrite: true);
        return manifest;
    }

    /// <summary>Where a manifest fetched for a magnet link is kept: the state directory, named after the info-hash.</summary>
    private string SavedManifestPath(MagnetLink magnet)
    {
        InfoHash hash = (magnet.InfoHashV2 ?? magnet.InfoHashV1)!.Value;
        return Path.Combine(StateDirectory, hash.ToHex() + ".torrent");
    }
}

using BlockTorrent.Manifest;

namespace BlockTorrent.Samples;

/// <summary>
/// The manifest a target was last deployed with, remembered per target so the next re-image of it knows where the old
/// image's pieces sit (<see cref="DeployOptions.PreviousManifest"/>): next to an image file, or in the state folder for
/// a device, as the resume file is. Compiled into both samples (samples/Shared).
/// </summary>
internal static class PreviousManifests
{
    /// <summary>Gets where the manifest last deployed to <paramref name="target"/> is kept.</summary>
    /// <param name="target">The device path or image file.</param>
    /// <returns>The file's path.</returns>
    public static string PathFor(string target)
    {
        if (!TargetDevices.IsDevicePath(target))
        {
            return Path.GetFullPath(target) + ".blocktorrent-deployed.torrent";
        }

        return Path.Combine(ResumeFiles.StateFolder(), $"{ResumeFiles.Sanitize(target)}.deployed.torrent");
    }

    /// <summary>Loads the manifest last deployed to a target, if one was remembered and still parses.</summary>
    /// <param name="target">The device path or image file.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    /// <returns>The manifest and where it was, or (<see langword="null"/>, the path) with why it was not used in <c>Problem</c>.</returns>
    public static async Task<(TorrentManifest? Manifest, string Path, string? Problem)> TryLoadAsync(string target, CancellationToken cancellationToken)
    {
        string path = PathFor(target);
        if (!File.Exists(path))
        {
            return (null, path, null);
        }

        try
        {
            return (await TorrentManifest.LoadAsync(path, cancellationToken).ConfigureAwait(false), path, null);
        }
        catch (Exception e) when (e is InvalidTorrentException or IOException or UnauthorizedAccessException)
        {
            // Only a hint: a damaged file costs transfer, never the deployment.
            return (null, path, e.Message);
        }
    }

    /// <summary>Remembers the manifest a target now holds, verified complete.</summary>
    /// <param name="manifest">The manifest deployed.</param>
    /// <param name="target">The device path or image file.</param>
    /// <param name="cancellationToken">Stops the write.</param>
    /// <returns>A task that completes when the file is written (replaced whole, never left half-written).</returns>
    public static async Task RememberAsync(TorrentManifest manifest, string target, CancellationToken cancellationToken)
    {
        string path = PathFor(target);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string partial = path + ".partial";
        await manifest.SaveAsync(partial, cancellationToken).ConfigureAwait(false);
        File.Move(partial, path, overwrite: true);
    }
}

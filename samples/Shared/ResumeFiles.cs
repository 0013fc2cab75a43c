using System.Text;
using BlockTorrent.Manifest;

namespace BlockTorrent.Samples;

/// <summary>
/// Where a deployment records which pieces are durably on a target, so a second run after Ctrl-C, a crash or a
/// restart fetches only the rest: next to an image file, or in the state folder for a device. Compiled into both
/// samples (samples/Shared).
/// </summary>
internal static class ResumeFiles
{
    public static string DefaultPath(TorrentManifest manifest, string target)
    {
        if (!TargetDevices.IsDevicePath(target))
        {
            return Path.GetFullPath(target) + ".blocktorrent-resume";
        }

        string folder = StateFolder();
        Directory.CreateDirectory(folder);
        string hash = (manifest.InfoHashV2 ?? manifest.InfoHashV1)!.Value.ToHex()[..16];
        return Path.Combine(folder, $"{hash}-{Sanitize(target)}.resume");
    }

    /// <summary>
    /// Gets where the manifest fetched for a magnet link is kept until the target is complete: beside the resume
    /// file (<c>RESUME.torrent</c> for an explicit one, <c>IMAGE.blocktorrent-torrent</c> beside an image file, or
    /// <c>HASH-DEVICE.torrent</c> in the state folder for a device).
    /// </summary>
    public static string MagnetManifestPath(MagnetLink magnet, string target, string? resumeFile)
    {
        if (resumeFile is not null)
        {
            return Path.GetFullPath(resumeFile) + ".torrent";
        }

        if (!TargetDevices.IsDevicePath(target))
        {
            return Path.GetFullPath(target) + ".blocktorrent-torrent";
        }

        string hash = (magnet.InfoHashV2 ?? magnet.InfoHashV1)!.Value.ToHex()[..16];
        return Path.Combine(StateFolder(), $"{hash}-{Sanitize(target)}.torrent");
    }

    /// <summary>
    /// Gets the folder for state that must survive a restart: systemd's <c>$STATE_DIRECTORY</c> (a unit with
    /// <c>StateDirectory=</c>), <c>$XDG_STATE_HOME/blocktorrent</c>, <c>/var/lib/blocktorrent</c> for root, or
    /// <c>~/.local/state/blocktorrent</c>.
    /// </summary>
    public static string StateFolder()
    {
        string? systemd = Environment.GetEnvironmentVariable("STATE_DIRECTORY");
        if (!string.IsNullOrEmpty(systemd))
        {
            // systemd may list several folders separated by ':'; the first is this unit's own.
            return systemd.Split(':')[0];
        }

        string? xdg = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (!string.IsNullOrEmpty(xdg))
        {
            return Path.Combine(xdg, "blocktorrent");
        }

        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return OperatingSystem.IsLinux() && Environment.UserName == "root"
            ? "/var/lib/blocktorrent"
            : Path.Combine(home, ".local", "state", "blocktorrent");
    }

    /// <summary>Turns a device path into a file name: letters and digits kept, anything else an underscore.</summary>
    internal static string Sanitize(string path)
    {
        var text = new StringBuilder(path.Length);
        foreach (char c in path.TrimStart('/', '\\', '.'))
        {
            text.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        }

        return text.ToString();
    }
}

using System.Text;
using BlockTorrent.Manifest;

namespace BlockTorrent.Cli.Commands;

/// <summary>
/// Where <c>deploy</c> records which pieces are durably on a target, so a second run after Ctrl-C or a crash
/// fetches only the rest: next to an image file, or in the state folder for a device.
/// </summary>
internal static class ResumeFiles
{
    public static string DefaultPath(TorrentManifest manifest, string target)
    {
        if (!DeviceOpener.IsDevicePath(target))
        {
            return Path.GetFullPath(target) + ".blocktorrent-resume";
        }

        string folder = StateFolder();
        Directory.CreateDirectory(folder);
        string hash = (manifest.InfoHashV2 ?? manifest.InfoHashV1)!.Value.ToHex()[..16];
        return Path.Combine(folder, $"{hash}-{Sanitize(target)}.resume");
    }

    /// <summary>Gets <c>$XDG_STATE_HOME/blocktorrent</c>, <c>~/.local/state/blocktorrent</c>, or <c>/var/lib/blocktorrent</c> for root.</summary>
    private static string StateFolder()
    {
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

    private static string Sanitize(string path)
    {
        var text = new StringBuilder(path.Length);
        foreach (char c in path.TrimStart('/', '\\', '.'))
        {
            text.Append(char.IsAsciiLetterOrDigit(c) ? c : '_');
        }

        return text.ToString();
    }
}

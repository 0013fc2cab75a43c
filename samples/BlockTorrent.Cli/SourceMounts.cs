namespace BlockTorrent.Cli;

/// <summary>
/// Whether a capture's source is mounted read-write: its bytes could change while they are read, and the captured
/// image would match no moment of the disk. A device is matched to <c>/proc/self/mountinfo</c> by its number
/// (major:minor, from sysfs) as well as by name, for it and each of its partitions, so a mount through another
/// device node or a by-id link is found too.
/// </summary>
internal static class SourceMounts
{
    /// <summary>Finds the read-write mounts of a block device and its partitions.</summary>
    /// <param name="devicePath">The device node (a link is followed).</param>
    /// <param name="mountInfo">The mount table.</param>
    /// <param name="sysClassBlock">Where the kernel lists block devices.</param>
    /// <returns>Each read-write mount point with the device mounted there; empty when there is none.</returns>
    public static IReadOnlyList<string> ReadWriteMounts(string devicePath, string mountInfo = "/proc/self/mountinfo", string sysClassBlock = "/sys/class/block")
    {
        string resolved = new FileInfo(devicePath).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(devicePath);
        string name = Path.GetFileName(resolved);
        var numbers = new HashSet<string>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal) { resolved };
        string directory = Path.Combine(sysClassBlock, name);
        if (ReadDev(directory) is { } own)
        {
            numbers.Add(own);
        }

        if (Directory.Exists(directory))
        {
            foreach (string child in Directory.EnumerateDirectories(directory))
            {
                if (File.Exists(Path.Combine(child, "partition")) && ReadDev(child) is { } partition)
                {
                    numbers.Add(partition);
                    names.Add("/dev/" + Path.GetFileName(child));
                }
            }
        }

        return File.Exists(mountInfo) ? Find(File.ReadLines(mountInfo), numbers, names) : [];
    }

    /// <summary>The read-write mounts among mountinfo lines whose device number or source is one of those given.</summary>
    /// <param name="lines">Lines of mountinfo: <c>id parent major:minor root mountpoint options [optional…] - fstype source superoptions</c>.</param>
    /// <param name="numbers">Device numbers, <c>major:minor</c>.</param>
    /// <param name="names">Device paths.</param>
    /// <returns>"mount point (source)" for each read-write mount.</returns>
    internal static IReadOnlyList<string> Find(IEnumerable<string> lines, IReadOnlySet<string> numbers, IReadOnlySet<string> names)
    {
        var found = new List<string>();
        foreach (string line in lines)
        {
            string[] fields = line.Split(' ');
            int separator = Array.IndexOf(fields, "-");
            if (fields.Length < 6 || separator < 6 || separator + 2 >= fields.Length)
            {
                continue;
            }

            string source = Unescape(fields[separator + 2]);
            bool ours = numbers.Contains(fields[2]) || names.Contains(source);
            bool readWrite = fields[5].Split(',').Contains("rw", StringComparer.Ordinal);
            if (ours && readWrite)
            {
                found.Add($"{Unescape(fields[4])} ({source})");
            }
        }

        return found;
    }

    private static string? ReadDev(string directory)
    {
        string file = Path.Combine(directory, "dev");
        return File.Exists(file) ? File.ReadAllText(file).Trim() : null;
    }

    // mountinfo escapes space, tab, newline and backslash as \ooo octal.
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var text = new System.Text.StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length && field.AsSpan(i + 1, 3).IndexOfAnyExceptInRange('0', '7') < 0)
            {
                text.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                text.Append(field[i]);
            }
        }

        return text.ToString();
    }
}

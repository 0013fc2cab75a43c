using System.Text;

namespace BlockTorrent.Devices.Linux;

/// <summary>
/// Builds the device snapshot from sysfs and procfs. The roots are parameters so tests can point it at a recorded
/// tree; the running system uses <c>/sys</c>, <c>/proc/self/mountinfo</c>, <c>/proc/swaps</c> and <c>/dev</c>.
/// </summary>
internal sealed class LinuxDeviceScanner
{
    private const string SwapMountPoint = "[SWAP]";
    private readonly string _sysBlock;
    private readonly string _mountInfo;
    private readonly string _swaps;
    private readonly string _dev;

    public LinuxDeviceScanner(string sysRoot = "/sys", string mountInfo = "/proc/self/mountinfo", string swaps = "/proc/swaps", string devRoot = "/dev")
    {
        _sysBlock = Path.Combine(sysRoot, "block");
        _mountInfo = mountInfo;
        _swaps = swaps;
        _dev = devRoot;
    }

    public IReadOnlyList<LinuxBlockDeviceInfo> Scan()
    {
        // Pass 1: every block device and partition, by kernel name.
        var nodes = new Dictionary<string, Node>(StringComparer.Ordinal);
        var disks = new List<Node>();
        if (Directory.Exists(_sysBlock))
        {
            foreach (string dir in Directory.EnumerateFileSystemEntries(_sysBlock).Order(StringComparer.Ordinal))
            {
                var disk = new Node(Path.GetFileName(dir), dir, partitionOf: null);
                nodes[disk.Name] = disk;
                disks.Add(disk);
                foreach (string sub in SafeSubdirectories(dir))
                {
                    if (File.Exists(Path.Combine(sub, "partition")))
                    {
                        var part = new Node(Path.GetFileName(sub), sub, disk);
                        nodes[part.Name] = part;
                        disk.Partitions.Add(part);
                    }
                }
            }
        }

        var byNumber = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var node in nodes.Values)
        {
            if (node.DeviceNumber is not null)
            {
                byNumber[node.DeviceNumber] = node;
            }
        }

        // Pass 2: mounts and swap areas land on the node they come from.
        foreach (var (number, source, mountPoint) in ReadMounts())
        {
            var node = byNumber.GetValueOrDefault(number) ?? NodeForSource(source, nodes);
            node?.DirectMounts.Add(mountPoint);
        }

        foreach (string source in ReadSwaps())
        {
            NodeForSource(source, nodes)?.DirectMounts.Add(SwapMountPoint);
        }

        // Pass 3: build the records; effective mounts follow holders (a partition under LVM "is" where the LV is mounted).
        var result = new List<LinuxBlockDeviceInfo>(disks.Count);
        foreach (var disk in disks)
        {
            var partitions = disk.Partitions
                .OrderBy(p => p.PartitionNumber)
                .Select(p => new LinuxPartitionInfo
                {
                    Name = p.Name,
                    Path = Path.Combine(_dev, p.Name),
                    Number = p.PartitionNumber,
                    Start = p.ReadLong("start") * 512,
                    Size = p.ReadLong("size") * 512,
                    DeviceNumber = p.DeviceNumber,
                    IsReadOnly = p.ReadLong("ro") != 0,
                    MountPoints = [.. p.DirectMounts],
                    Holders = Holders(p, nodes),
                    HoldsRootFilesystem = EffectiveMounts(p, nodes, []).Contains("/"),
                })
                .ToList();

            bool holdsRoot = EffectiveMounts(disk, nodes, []).Contains("/") || partitions.Any(p => p.HoldsRootFilesystem);
            result.Add(new LinuxBlockDeviceInfo
            {
                Name = disk.Name,
                Path = Path.Combine(_dev, disk.Name),
                Size = disk.ReadLong("size") * 512, // sysfs counts 512-byte units whatever the sector size
                DeviceNumber = disk.DeviceNumber,
                Model = disk.ReadText("device/model") ?? disk.ReadText("device/name") ?? disk.ReadText("dm/name") ?? disk.ReadText("md/level"),
                Serial = disk.ReadText("serial") ?? disk.ReadText("device/serial") ?? Vpd80Serial(disk),
                LogicalSectorSize = (int)Math.Max(512, disk.ReadLong("queue/logical_block_size")),
                PhysicalSectorSize = (int)Math.Max(512, disk.ReadLong("queue/physical_block_size")),
                IsRemovable = disk.ReadLong("removable") != 0,
                IsRotational = disk.ReadLong("queue/rotational") != 0,
                IsReadOnly = disk.ReadLong("ro") != 0,
                BackingFile = disk.ReadText("loop/backing_file"),
                MountPoints = [.. disk.DirectMounts],
                Partitions = partitions,
                Holders = Holders(disk, nodes),
                HoldsRootFilesystem = holdsRoot,
            });
        }

        return result;
    }

    /// <summary>Parses one line of mountinfo: <c>id parent major:minor root mountpoint options [optional…] - fstype source superoptions</c>.</summary>
    internal static (string DeviceNumber, string Source, string MountPoint)? ParseMountInfoLine(string line)
    {
        string[] fields = line.Split(' ');
        int separator = Array.IndexOf(fields, "-");
        if (fields.Length < 5 || separator < 6 || separator + 2 >= fields.Length)
        {
            return null;
        }

        return (fields[2], Unescape(fields[separator + 2]), Unescape(fields[4]));
    }

    // mountinfo escapes space, tab, newline and backslash as \ooo octal.
    internal static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var text = new StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && IsOctal(field, i + 1))
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

        static bool IsOctal(string s, int start) =>
            start + 3 <= s.Length && s[start] is >= '0' and <= '7' && s[start + 1] is >= '0' and <= '7' && s[start + 2] is >= '0' and <= '7';
    }

    private static List<string> EffectiveMounts(Node node, Dictionary<string, Node> nodes, HashSet<string> visited)
    {
        var mounts = new List<string>();
        if (!visited.Add(node.Name))
        {
            return mounts;
        }

        mounts.AddRange(node.DirectMounts);
        foreach (string holder in node.HolderNames)
        {
            if (nodes.TryGetValue(holder, out var held))
            {
                mounts.AddRange(EffectiveMounts(held, nodes, visited));
            }
        }

        return mounts;
    }

    private static List<LinuxDeviceHolder> Holders(Node node, Dictionary<string, Node> nodes)
    {
        var holders = new List<LinuxDeviceHolder>();
        foreach (string name in node.HolderNames)
        {
            nodes.TryGetValue(name, out var holder);
            string? uuid = holder?.ReadText("dm/uuid");
            var kind = name.StartsWith("md", StringComparison.Ordinal) ? LinuxHolderKind.Md
                : uuid?.StartsWith("LVM-", StringComparison.Ordinal) == true ? LinuxHolderKind.Lvm
                : name.StartsWith("dm-", StringComparison.Ordinal) ? LinuxHolderKind.DeviceMapper
                : LinuxHolderKind.Other;
            holders.Add(new LinuxDeviceHolder
            {
                Name = name,
                Kind = kind,
                FriendlyName = holder?.ReadText("dm/name"),
                MountPoints = holder is null ? [] : [.. EffectiveMounts(holder, nodes, [])],
            });
        }

        return holders;
    }

    private static IEnumerable<string> SafeSubdirectories(string dir)
    {
        try
        {
            return [.. Directory.EnumerateDirectories(dir)];
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static string? Vpd80Serial(Node disk)
    {
        // SCSI Unit Serial Number VPD page: a 4-byte header, then the serial in ASCII.
        byte[]? page = disk.ReadBytes("device/vpd_pg80");
        if (page is null || page.Length <= 4)
        {
            return null;
        }

        string serial = Encoding.ASCII.GetString(page, 4, page.Length - 4).Trim('\0', ' ', '\n');
        return serial.Length == 0 ? null : serial;
    }

    private Node? NodeForSource(string source, Dictionary<string, Node> nodes)
    {
        if (!source.StartsWith(_dev + "/", StringComparison.Ordinal))
        {
            return null;
        }

        string resolved = source;
        try
        {
            resolved = new FileInfo(source).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? source;
        }
        catch (IOException)
        {
            // A recorded tree or a node that vanished: the name as written is all there is.
        }

        if (nodes.TryGetValue(Path.GetFileName(resolved), out var node))
        {
            return node;
        }

        // /dev/mapper/NAME names a device-mapper target by its dm name.
        string mapperName = Path.GetFileName(source);
        return nodes.Values.FirstOrDefault(n => n.ReadText("dm/name") == mapperName);
    }

    private IEnumerable<(string DeviceNumber, string Source, string MountPoint)> ReadMounts()
    {
        if (!File.Exists(_mountInfo))
        {
            yield break;
        }

        foreach (string line in File.ReadLines(_mountInfo))
        {
            if (ParseMountInfoLine(line) is { } mount)
            {
                yield return mount;
            }
        }
    }

    private IEnumerable<string> ReadSwaps()
    {
        if (!File.Exists(_swaps))
        {
            yield break;
        }

        // "Filename Type Size Used Priority", one header line; the file name escapes spaces like mountinfo.
        foreach (string line in File.ReadLines(_swaps).Skip(1))
        {
            string[] fields = line.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 1 && fields[1] == "partition")
            {
                yield return Unescape(fields[0]);
            }
        }
    }

    private sealed class Node
    {
        public Node(string name, string directory, Node? partitionOf)
        {
            Name = name;
            Directory = directory;
            PartitionOf = partitionOf;
            DeviceNumber = ReadText("dev");
            PartitionNumber = partitionOf is null ? 0 : (int)ReadLong("partition");
            string holders = System.IO.Path.Combine(directory, "holders");
            HolderNames = System.IO.Directory.Exists(holders)
                ? [.. System.IO.Directory.EnumerateFileSystemEntries(holders).Select(System.IO.Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)]
                : [];
        }

        public string Name { get; }

        public string Directory { get; }

        public Node? PartitionOf { get; }

        public string? DeviceNumber { get; }

        public int PartitionNumber { get; }

        public List<string> HolderNames { get; }

        public List<string> DirectMounts { get; } = [];

        public List<Node> Partitions { get; } = [];

        public string? ReadText(string relative) => SysFs.ReadText(System.IO.Path.Combine(Directory, relative));

        public long ReadLong(string relative) => SysFs.ReadLong(System.IO.Path.Combine(Directory, relative));

        public byte[]? ReadBytes(string relative) => SysFs.ReadBytes(System.IO.Path.Combine(Directory, relative));
    }
}

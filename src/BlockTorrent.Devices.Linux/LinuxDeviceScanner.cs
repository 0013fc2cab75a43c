using System.Text;

namespace BlockTorrent.Devices.Linux;

/// <summary>
/// Builds the device snapshot from sysfs and procfs. The roots are parameters so tests can point it at a recorded
/// tree; the running system uses <c>/sys</c>, <c>/proc/self/mountinfo</c>, <c>/proc/swaps</c>, <c>/dev</c> and udev's
/// database in <c>/run/udev/data</c>.
/// </summary>
/// <remarks>
/// The running system is more than the device the root mount names: a btrfs root spans every device of its file
/// system (<c>/sys/fs/btrfs/UUID/devices</c>), a ZFS root every member of its pool (udev's <c>ID_FS_TYPE=zfs_member</c>
/// with the pool's name as <c>ID_FS_LABEL</c>; the mount names a dataset, not a device), an overlay root the file
/// systems its lower, upper and work directories live on, and a loop device among those the file system its backing
/// file lives on (a live system's stick). Each of these counts as holding the root file system.
/// </remarks>
internal sealed class LinuxDeviceScanner
{
    private const string SwapMountPoint = "[SWAP]";
    private readonly string _sysBlock;
    private readonly string _mountInfo;
    private readonly string _swaps;
    private readonly string _dev;
    private readonly string _sysRoot;
    private readonly string _udevData;

    public LinuxDeviceScanner(string sysRoot = "/sys", string mountInfo = "/proc/self/mountinfo", string swaps = "/proc/swaps", string devRoot = "/dev", string udevData = "/run/udev/data")
    {
        _sysRoot = sysRoot;
        _udevData = udevData;
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
        List<MountRecord> mounts = [.. ReadMounts()];
        foreach (var mount in mounts)
        {
            var node = byNumber.GetValueOrDefault(mount.DeviceNumber) ?? NodeForSource(mount.Source, nodes);
            node?.DirectMounts.Add(mount.MountPoint);
            if (mount.ReadWrite)
            {
                node?.WritableMounts.Add(mount.MountPoint);
            }
        }

        // The devices the running system lives on beyond the one its root mount names count as mounted on /.
        bool rootWritable = mounts.LastOrDefault(m => m.MountPoint == "/") is { ReadWrite: true };
        foreach (var node in SystemNodes(mounts, nodes, byNumber))
        {
            if (!node.DirectMounts.Contains("/"))
            {
                node.DirectMounts.Add("/");
            }

            if (rootWritable && !node.WritableMounts.Contains("/"))
            {
                node.WritableMounts.Add("/");
            }
        }

        foreach (string source in ReadSwaps())
        {
            if (NodeForSource(source, nodes) is { } swap)
            {
                swap.DirectMounts.Add(SwapMountPoint);
                swap.WritableMounts.Add(SwapMountPoint);
            }
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
                    ReadWriteMountPoints = [.. EffectiveMounts(p, nodes, [], writable: true).Distinct(StringComparer.Ordinal)],
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
                ReadWriteMountPoints = [.. EffectiveMounts(disk, nodes, [], writable: true).Concat(partitions.SelectMany(p => p.ReadWriteMountPoints)).Distinct(StringComparer.Ordinal)],
            });
        }

        return result;
    }

    /// <summary>Parses one line of mountinfo: <c>id parent major:minor root mountpoint options [optional…] - fstype source superoptions</c>.</summary>
    internal static (string DeviceNumber, string Source, string MountPoint)? ParseMountInfoLine(string line) =>
        ParseMount(line) is { } mount ? (mount.DeviceNumber, mount.Source, mount.MountPoint) : null;

    /// <summary>Parses one line of mountinfo with its file system type and super options.</summary>
    internal static MountRecord? ParseMount(string line)
    {
        string[] fields = line.Split(' ');
        int separator = Array.IndexOf(fields, "-");
        if (fields.Length < 5 || separator < 6 || separator + 2 >= fields.Length)
        {
            return null;
        }

        string superOptions = separator + 3 < fields.Length ? Unescape(fields[separator + 3]) : string.Empty;

        // Writable only when both the mount and its file system are read-write (a file system remounted read-only after errors is not).
        bool readWrite = fields[5].Split(',').Contains("rw", StringComparer.Ordinal) && !superOptions.Split(',').Contains("ro", StringComparer.Ordinal);
        return new MountRecord(fields[2], fields[separator + 1], Unescape(fields[separator + 2]), Unescape(fields[4]), superOptions, readWrite);
    }

    /// <summary>The mount that holds <paramref name="path"/>: the one with the longest mount point that is a prefix of it.</summary>
    private static MountRecord? MountHolding(List<MountRecord> mounts, string path)
    {
        MountRecord? best = null;
        foreach (var mount in mounts)
        {
            string point = mount.MountPoint;
            bool holds = point == "/" || path == point || path.StartsWith(point + "/", StringComparison.Ordinal);
            if (holds && (best is null || point.Length >= best.MountPoint.Length))
            {
                best = mount;
            }
        }

        return best;
    }

    /// <summary>Every device the running system lives on, following the root mount through btrfs, ZFS, overlay and loop devices.</summary>
    private List<Node> SystemNodes(List<MountRecord> mounts, Dictionary<string, Node> nodes, Dictionary<string, Node> byNumber)
    {
        var found = new List<Node>();
        var seenMounts = new HashSet<MountRecord>();
        var pending = new Queue<MountRecord>();
        if (mounts.LastOrDefault(m => m.MountPoint == "/") is { } root)
        {
            pending.Enqueue(root);
        }

        while (pending.TryDequeue(out MountRecord? mount))
        {
            if (!seenMounts.Add(mount))
            {
                continue;
            }

            var direct = new List<Node>();
            if ((byNumber.GetValueOrDefault(mount.DeviceNumber) ?? NodeForSource(mount.Source, nodes)) is { } node)
            {
                direct.Add(node);
            }

            switch (mount.FsType)
            {
                case "btrfs":
                    direct.AddRange(BtrfsMembers(direct, nodes));
                    break;
                case "zfs":
                    string pool = mount.Source.Split('/')[0];
                    direct.AddRange(nodes.Values.Where(n => n.DeviceNumber is not null && UdevProperty(n.DeviceNumber, "ID_FS_TYPE") == "zfs_member" && UdevProperty(n.DeviceNumber, "ID_FS_LABEL") == pool));
                    break;
                case "overlay":
                    foreach (string directory in OverlayDirectories(mount.SuperOptions))
                    {
                        if (MountHolding(mounts, directory) is { } holding)
                        {
                            pending.Enqueue(holding);
                        }
                    }

                    break;
                default:
                    break;
            }

            foreach (var member in direct.Where(n => !found.Contains(n)))
            {
                found.Add(member);

                // A loop device's bytes live in its backing file, on another file system (a live system's stick).
                if (member.ReadText("loop/backing_file") is { } backing && MountHolding(mounts, backing) is { } holding)
                {
                    pending.Enqueue(holding);
                }
            }
        }

        return found;
    }

    private static IEnumerable<string> OverlayDirectories(string superOptions)
    {
        foreach (string option in superOptions.Split(','))
        {
            int equals = option.IndexOf('=', StringComparison.Ordinal);
            string name = equals < 0 ? option : option[..equals];
            if (name is "lowerdir" or "upperdir" or "workdir" && equals > 0)
            {
                foreach (string directory in option[(equals + 1)..].Split(':', StringSplitOptions.RemoveEmptyEntries))
                {
                    yield return directory;
                }
            }
        }
    }

    /// <summary>Every device of the btrfs file systems <paramref name="known"/> belong to (a multi-device root names only one).</summary>
    private IEnumerable<Node> BtrfsMembers(List<Node> known, Dictionary<string, Node> nodes)
    {
        string filesystems = Path.Combine(_sysRoot, "fs", "btrfs");
        if (!Directory.Exists(filesystems))
        {
            yield break;
        }

        foreach (string filesystem in Directory.EnumerateDirectories(filesystems))
        {
            string devices = Path.Combine(filesystem, "devices");
            if (!Directory.Exists(devices))
            {
                continue;
            }

            string[] names = [.. Directory.EnumerateFileSystemEntries(devices).Select(Path.GetFileName).OfType<string>()];
            if (known.Any(n => names.Contains(n.Name)))
            {
                foreach (string name in names)
                {
                    if (nodes.TryGetValue(name, out var member))
                    {
                        yield return member;
                    }
                }
            }
        }
    }

    /// <summary>Reads one property (<c>E:NAME=value</c>) from udev's database entry of a block device.</summary>
    private string? UdevProperty(string deviceNumber, string name)
    {
        string path = Path.Combine(_udevData, "b" + deviceNumber);
        if (!File.Exists(path))
        {
            return null;
        }

        string prefix = "E:" + name + "=";
        try
        {
            return File.ReadLines(path).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..];
        }
        catch (IOException)
        {
            return null;
        }
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

    /// <summary>Where a node is mounted, itself or through the devices stacked on it (<c>holders/</c>); only the read-write mounts and swap when <paramref name="writable"/>.</summary>
    private static List<string> EffectiveMounts(Node node, Dictionary<string, Node> nodes, HashSet<string> visited, bool writable = false)
    {
        var mounts = new List<string>();
        if (!visited.Add(node.Name))
        {
            return mounts;
        }

        mounts.AddRange(writable ? node.WritableMounts : node.DirectMounts);
        foreach (string holder in node.HolderNames)
        {
            if (nodes.TryGetValue(holder, out var held))
            {
                mounts.AddRange(EffectiveMounts(held, nodes, visited, writable));
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

    private IEnumerable<MountRecord> ReadMounts()
    {
        if (!File.Exists(_mountInfo))
        {
            yield break;
        }

        foreach (string line in File.ReadLines(_mountInfo))
        {
            if (ParseMount(line) is { } mount)
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

    /// <summary>One mount of mountinfo.</summary>
    internal sealed record MountRecord(string DeviceNumber, string FsType, string Source, string MountPoint, string SuperOptions, bool ReadWrite);

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

        /// <summary>Gets the direct mounts that are read-write, and swap: what writes to the node while the system runs.</summary>
        public List<string> WritableMounts { get; } = [];

        public List<Node> Partitions { get; } = [];

        public string? ReadText(string relative) => SysFs.ReadText(System.IO.Path.Combine(Directory, relative));

        public long ReadLong(string relative) => SysFs.ReadLong(System.IO.Path.Combine(Directory, relative));

        public byte[]? ReadBytes(string relative) => SysFs.ReadBytes(System.IO.Path.Combine(Directory, relative));
    }
}

using System.Text;
using BlockTorrent.Testing;

namespace BlockTorrent.Devices.Linux.Tests;

/// <summary>
/// A recorded machine: the sysfs attributes, mountinfo and swaps of a laptop with its root on LVM inside LUKS on an
/// NVMe disk, a USB stick mounted at a path with a space, a disk under md RAID, a swap disk and a blank disk. Laid out
/// as files in a temp directory, so <see cref="LinuxDeviceScanner"/> reads it exactly as it reads /sys and /proc.
/// </summary>
internal sealed class RecordedLayout : IDisposable
{
    private readonly TempDirectory _root = new();

    public RecordedLayout()
    {
        Disk("nvme0n1", "259:0", sectors: 1_953_525_168, ("device/model", "Samsung SSD 980 PRO 1TB"), ("device/serial", "S5GXNF0R123456"));
        Partition("nvme0n1", "nvme0n1p1", "259:1", number: 1, start: 2048, sectors: 1_048_576);
        Partition("nvme0n1", "nvme0n1p2", "259:2", number: 2, start: 1_050_624, sectors: 1_952_474_511, holders: ["dm-0"]);
        Disk("dm-0", "254:0", sectors: 1_952_441_743, ("dm/name", "luks-5e1f"), ("dm/uuid", "CRYPT-LUKS2-5e1f-luks-5e1f"));
        Holders("dm-0", "dm-1");
        Disk("dm-1", "254:1", sectors: 1_952_000_000, ("dm/name", "vg0-root"), ("dm/uuid", "LVM-abcdefgh"));

        Disk("sda", "8:0", sectors: 60_063_744, ("removable", "1"), ("device/model", "Cruzer Blade    "));
        File.WriteAllBytes(Sys("sda/device/vpd_pg80"), [0, 0x80, 0, 12, .. Encoding.ASCII.GetBytes("4C530001230\0")]);
        Partition("sda", "sda1", "8:1", number: 1, start: 2048, sectors: 60_061_696);

        Disk("sdb", "8:16", sectors: 7_814_037_168, ("queue/rotational", "1"), ("device/model", "WDC WD40EFRX"));
        Partition("sdb", "sdb1", "8:17", number: 1, start: 2048, sectors: 7_814_035_120, holders: ["md127"]);
        Disk("md127", "9:127", sectors: 7_814_035_000, ("md/level", "raid1"));

        Disk("sdc", "8:32", sectors: 2_097_152, ("device/model", "Blank"));
        Disk("sdd", "8:48", sectors: 16_777_216);
        Partition("sdd", "sdd1", "8:49", number: 1, start: 2048, sectors: 16_775_168);
        Disk("sde", "8:64", sectors: 2_097_152, ("ro", "1"));

        File.WriteAllText(MountInfo, string.Join('\n',
            "22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/mapper/vg0-root rw,errors=remount-ro",
            "23 22 259:1 / /boot/efi rw,relatime shared:2 - vfat /dev/nvme0n1p1 rw,fmask=0077",
            "30 22 8:1 / /media/My\\040Stick rw,nosuid,nodev shared:40 - vfat /dev/sda1 rw",
            "31 22 9:127 / /srv rw,relatime shared:41 - xfs /dev/md127 rw",
            "40 22 0:5 / /dev rw,nosuid shared:3 - devtmpfs udev rw,size=8000000k",
            "41 22 0:22 / /proc rw,nosuid shared:4 - proc proc rw",
            string.Empty));
        File.WriteAllText(Swaps, "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n/dev/sdd1                               partition\t8387580\t\t0\t\t-2\n");
    }

    public string SysRoot => _root.File("sys");

    public string MountInfo => _root.File("mountinfo");

    public string Swaps => _root.File("swaps");

    public IReadOnlyList<LinuxBlockDeviceInfo> Scan() => new LinuxDeviceScanner(SysRoot, MountInfo, Swaps, "/dev").Scan();

    public LinuxBlockDeviceInfo Device(string name) => Scan().Single(d => d.Name == name);

    public void Dispose() => _root.Dispose();

    private string Sys(string relative)
    {
        string path = Path.Combine(SysRoot, "block", relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }

    private void Disk(string name, string dev, long sectors, params (string File, string Value)[] attributes)
    {
        File.WriteAllText(Sys($"{name}/dev"), dev + "\n");
        File.WriteAllText(Sys($"{name}/size"), sectors + "\n");
        Directory.CreateDirectory(Sys($"{name}/holders/x")[..^2]);
        foreach (var (file, value) in attributes)
        {
            File.WriteAllText(Sys($"{name}/{file}"), value + "\n");
        }
    }

    private void Partition(string disk, string name, string dev, int number, long start, long sectors, string[]? holders = null)
    {
        File.WriteAllText(Sys($"{disk}/{name}/dev"), dev + "\n");
        File.WriteAllText(Sys($"{disk}/{name}/partition"), number + "\n");
        File.WriteAllText(Sys($"{disk}/{name}/start"), start + "\n");
        File.WriteAllText(Sys($"{disk}/{name}/size"), sectors + "\n");
        foreach (string holder in holders ?? [])
        {
            File.WriteAllText(Sys($"{disk}/{name}/holders/{holder}"), string.Empty);
        }
    }

    private void Holders(string name, params string[] holders)
    {
        foreach (string holder in holders)
        {
            File.WriteAllText(Sys($"{name}/holders/{holder}"), string.Empty);
        }
    }
}

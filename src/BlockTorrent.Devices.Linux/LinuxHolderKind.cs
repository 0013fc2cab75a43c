namespace BlockTorrent.Devices.Linux;

/// <summary>What kind of virtual block device holds (stacks on top of) another.</summary>
public enum LinuxHolderKind
{
    /// <summary>Some other holder.</summary>
    Other = 0,

    /// <summary>A device-mapper target that is not LVM (dm-crypt, multipath, a plain dmsetup table).</summary>
    DeviceMapper = 1,

    /// <summary>An LVM logical volume (a device-mapper target whose uuid starts with <c>LVM-</c>).</summary>
    Lvm = 2,

    /// <summary>An md software RAID array.</summary>
    Md = 3,
}

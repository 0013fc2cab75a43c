namespace BlockTorrent.Devices;

/// <summary>Why BlockTorrent refuses to image a target device.</summary>
public enum DeviceRefusalReason
{
    /// <summary>The device, or one of its partitions, is mounted.</summary>
    Mounted = 1,

    /// <summary>The device, or one of its partitions, is held by another block device (device-mapper, md RAID, LVM, Storage Spaces).</summary>
    HeldByOtherDevice = 2,

    /// <summary>The device holds the running system's root filesystem (or its system volume). This refusal can never be overridden.</summary>
    HoldsRootFilesystem = 3,

    /// <summary>The device is read-only.</summary>
    ReadOnly = 4,

    /// <summary>The device is smaller than the image.</summary>
    TooSmall = 5,

    /// <summary>The operating system refused an exclusive open: something else has the device open or claimed.</summary>
    Busy = 6,

    /// <summary>The target is not a whole block device (it does not exist, or it is a regular file where a disk was required).</summary>
    NotABlockDevice = 7,

    /// <summary>The operating system holds the disk offline (a Windows disk attribute): it accepts no I/O until it is brought online.</summary>
    Offline = 8,

    /// <summary>The path named another device (or file) when it was opened than when it was checked: it was replaced in between.</summary>
    Replaced = 9,
}

namespace BlockTorrent.Devices.Windows;

/// <summary>How a disk is partitioned, as Windows reads it (PARTITION_STYLE).</summary>
public enum WindowsPartitionStyle
{
    /// <summary>No partition table Windows recognizes (a blank disk, or one with a foreign layout).</summary>
    Raw = 0,

    /// <summary>A master boot record partition table.</summary>
    Mbr = 1,

    /// <summary>A GUID partition table.</summary>
    Gpt = 2,
}

namespace BlockTorrent.Devices.Windows;

/// <summary>The bus a disk is attached through, as Windows reports it (STORAGE_BUS_TYPE).</summary>
public enum WindowsBusType
{
    /// <summary>The bus is not known.</summary>
    Unknown = 0,

    /// <summary>SCSI.</summary>
    Scsi = 1,

    /// <summary>ATAPI.</summary>
    Atapi = 2,

    /// <summary>ATA (parallel).</summary>
    Ata = 3,

    /// <summary>IEEE 1394 (FireWire).</summary>
    Ieee1394 = 4,

    /// <summary>Serial Storage Architecture.</summary>
    Ssa = 5,

    /// <summary>Fibre Channel.</summary>
    Fibre = 6,

    /// <summary>USB.</summary>
    Usb = 7,

    /// <summary>A hardware RAID controller.</summary>
    Raid = 8,

    /// <summary>iSCSI.</summary>
    IScsi = 9,

    /// <summary>Serial Attached SCSI.</summary>
    Sas = 10,

    /// <summary>SATA.</summary>
    Sata = 11,

    /// <summary>Secure Digital.</summary>
    SD = 12,

    /// <summary>MultiMediaCard.</summary>
    Mmc = 13,

    /// <summary>A virtual disk.</summary>
    Virtual = 14,

    /// <summary>A file-backed virtual disk, such as an attached VHD or VHDX.</summary>
    FileBackedVirtual = 15,

    /// <summary>A Storage Spaces virtual disk.</summary>
    Spaces = 16,

    /// <summary>NVMe.</summary>
    Nvme = 17,

    /// <summary>Storage-class memory.</summary>
    Scm = 18,

    /// <summary>Universal Flash Storage.</summary>
    Ufs = 19,

    /// <summary>NVMe over Fabrics.</summary>
    NvmeOverFabrics = 20,
}

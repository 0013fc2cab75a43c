namespace BlockTorrent.Devices.Windows.Tests;

/// <summary>
/// The enumeration of a provisioning workstation, as the IOCTLs return it: a Windows NVMe disk (C:, with the EFI
/// system partition on a second SATA disk), a USB stick, an offline disk, a write-protected SD card, and two disks
/// under one spanned volume. Built byte by byte at the documented offsets.
/// </summary>
internal static class RecordedMachine
{
    internal const long NvmeLength = 1_000_204_886_016;
    internal const long UsbLength = 31_914_983_424;
    internal const long SsdLength = 500_107_862_016;

    internal static readonly WindowsVolume EfiSystemPartition = new(@"\\?\Volume{1c1a7b52-0000-0000-0000-100000000000}\", [], [new WindowsDiskExtent(6, 1 << 20, 100 << 20)]);
    internal static readonly WindowsVolume WindowsC = new(@"\\?\Volume{2d2b8c63-0000-0000-0000-100000000000}\", [@"C:\"], [new WindowsDiskExtent(0, 1 << 20, NvmeLength - (2 << 20))]);
    internal static readonly WindowsVolume UsbE = new(@"\\?\Volume{3e3c9d74-0000-0000-0000-100000000000}\", [@"E:\"], [new WindowsDiskExtent(1, 1 << 20, UsbLength - (1 << 20))]);
    internal static readonly WindowsVolume SpannedD = new(@"\\?\Volume{4f4dae85-0000-0000-0000-100000000000}\", [@"D:\", @"C:\mnt\archive\"], [new WindowsDiskExtent(4, 1 << 20, 400L << 30), new WindowsDiskExtent(5, 1 << 20, 400L << 30)]);

    internal static IReadOnlyList<WindowsVolume> Volumes { get; } = [EfiSystemPartition, WindowsC, UsbE, SpannedD];

    internal static RunningSystem System { get; } = new(@"C:\, holding C:\Windows", [0], @"\Device\HarddiskVolume1", [6]);

    internal static DiskQueryResults Nvme => new()
    {
        Number = 0,
        LengthInfo = IoctlBytes.LengthInfo(NvmeLength),
        GeometryEx = IoctlBytes.GeometryEx(NvmeLength, 512),
        AccessAlignment = IoctlBytes.AccessAlignment(512, 512),
        DeviceDescriptor = IoctlBytes.DeviceDescriptor(null, "Samsung SSD 970 EVO Plus 1TB", "2B2QEXM7", "0025_3857_81B1_2C4A.", busType: 17, removable: false),
        Trim = IoctlBytes.Trim(true),
        LogicalBlockProvisioning = IoctlBytes.Provisioning(readsZeros: true, granularity: 512, alignment: 0),
        DiskAttributes = IoctlBytes.DiskAttributes(offline: false, readOnly: false),
        DriveLayout = IoctlBytes.GptLayout((1 << 20, 16 << 20), (17 << 20, NvmeLength - (18 << 20))),
    };

    // USB bridges often answer neither the alignment nor the trim query.
    internal static DiskQueryResults UsbStick => new()
    {
        Number = 1,
        LengthInfo = IoctlBytes.LengthInfo(UsbLength),
        GeometryEx = IoctlBytes.GeometryEx(UsbLength, 512),
        DeviceDescriptor = IoctlBytes.DeviceDescriptor("SanDisk ", "Ultra USB 3.0   ", "1.00", "4C530001230815117", busType: 7, removable: true),
        DiskAttributes = IoctlBytes.DiskAttributes(offline: false, readOnly: false),
        DriveLayout = IoctlBytes.MbrLayout(0x0C, 0, 0, 0),
    };

    internal static DiskQueryResults OfflineDisk => new()
    {
        Number = 2,
        LengthInfo = IoctlBytes.LengthInfo(2_000_398_934_016),
        GeometryEx = IoctlBytes.GeometryEx(2_000_398_934_016, 512),
        AccessAlignment = IoctlBytes.AccessAlignment(512, 4096),
        DeviceDescriptor = IoctlBytes.DeviceDescriptor("ATA", "ST2000DM008-2FR102", "0001", "ZFL1ABCD", busType: 11, removable: false),
        DiskAttributes = IoctlBytes.DiskAttributes(offline: true, readOnly: false),
    };

    internal static DiskQueryResults WriteProtectedCard => new()
    {
        Number = 3,
        LengthInfo = IoctlBytes.LengthInfo(7_948_206_080),
        GeometryEx = IoctlBytes.GeometryEx(7_948_206_080, 512),
        DeviceDescriptor = IoctlBytes.DeviceDescriptor("Generic", "STORAGE DEVICE", "1404", null, busType: 7, removable: true),
        DiskAttributes = IoctlBytes.DiskAttributes(offline: false, readOnly: false),
        WriteProtected = true,
    };

    internal static DiskQueryResults Ssd => new()
    {
        Number = 4,
        LengthInfo = IoctlBytes.LengthInfo(SsdLength),
        GeometryEx = IoctlBytes.GeometryEx(SsdLength, 512),
        AccessAlignment = IoctlBytes.AccessAlignment(512, 4096),
        DeviceDescriptor = IoctlBytes.DeviceDescriptor("ATA", "CT500MX500SSD1", "M3CR043", "2049E4C1D2E3", busType: 11, removable: false),
        Trim = IoctlBytes.Trim(true),
        LogicalBlockProvisioning = IoctlBytes.Provisioning(readsZeros: true, granularity: 1 << 20, alignment: 4096),
        DiskAttributes = IoctlBytes.DiskAttributes(offline: false, readOnly: false),
        DriveLayout = IoctlBytes.GptLayout((1 << 20, 400L << 30)),
    };

    // Trims, but does not promise zeros after a trim.
    internal static DiskQueryResults SecondSsd => new()
    {
        Number = 5,
        LengthInfo = IoctlBytes.LengthInfo(SsdLength),
        AccessAlignment = IoctlBytes.AccessAlignment(4096, 4096),
        DeviceDescriptor = IoctlBytes.DeviceDescriptor("ATA", "CT500MX500SSD1", "M3CR043", "2049E4C1D2E4", busType: 11, removable: false),
        Trim = IoctlBytes.Trim(true),
        LogicalBlockProvisioning = IoctlBytes.Provisioning(readsZeros: false, granularity: 4096, alignment: null),
        DiskAttributes = IoctlBytes.DiskAttributes(offline: false, readOnly: false),
    };

    internal static DiskQueryResults BootDisk => new()
    {
        Number = 6,
        LengthInfo = IoctlBytes.LengthInfo(256_060_514_304),
        AccessAlignment = IoctlBytes.AccessAlignment(512, 512),
        DeviceDescriptor = IoctlBytes.DeviceDescriptor("ATA", "SanDisk SD8SB8U2", "U2110", "163922448912", busType: 11, removable: false),
        DiskAttributes = IoctlBytes.DiskAttributes(offline: false, readOnly: false),
        DriveLayout = IoctlBytes.GptLayout((1 << 20, 100 << 20)),
    };

    internal static WindowsDisk Describe(DiskQueryResults raw) => WindowsDiskBuilder.Build(raw, Volumes, System);
}

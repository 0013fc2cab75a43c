namespace BlockTorrent.Devices.Windows.Tests;

public sealed class WindowsDiskBuilderTests
{
    [Fact]
    public void AnNvmeDiskIsDescribedFromItsQueries()
    {
        WindowsDisk disk = RecordedMachine.Describe(RecordedMachine.Nvme);

        Assert.Equal((0, @"\\.\PhysicalDrive0", RecordedMachine.NvmeLength), (disk.Number, disk.Path, disk.Length));
        Assert.Equal(("Samsung SSD 970 EVO Plus 1TB", WindowsBusType.Nvme, false), (disk.Model, disk.BusType, disk.IsRemovable));
        Assert.Equal(("2B2QEXM7", "0025_3857_81B1_2C4A."), (disk.Revision, disk.SerialNumber));
        Assert.Equal((512, 512), (disk.LogicalSectorSize, disk.PhysicalSectorSize));
        Assert.Equal((WindowsPartitionStyle.Gpt, 2), (disk.PartitionStyle, disk.PartitionCount));
    }

    [Fact]
    public void TheDiskWithTheWindowsDirectoryHoldsTheBootVolume()
    {
        WindowsDisk disk = RecordedMachine.Describe(RecordedMachine.Nvme);

        Assert.Equal((true, false), (disk.HoldsBootVolume, disk.HoldsSystemVolume));
        Assert.Equal([RecordedMachine.WindowsC], disk.Volumes);
    }

    [Fact]
    public void TheDiskWithTheFirmwaresPartitionHoldsTheSystemVolume()
    {
        WindowsDisk disk = RecordedMachine.Describe(RecordedMachine.BootDisk);

        Assert.Equal((false, true), (disk.HoldsBootVolume, disk.HoldsSystemVolume));
    }

    [Fact]
    public void AUsbStickWithoutAlignmentDataTakesItsSectorSizeFromTheGeometry()
    {
        WindowsDisk disk = RecordedMachine.Describe(RecordedMachine.UsbStick);

        Assert.Equal(("SanDisk Ultra USB 3.0", WindowsBusType.Usb, true), (disk.Model, disk.BusType, disk.IsRemovable));
        Assert.Equal((512, 512, false), (disk.LogicalSectorSize, disk.PhysicalSectorSize, disk.SupportsTrim));
        Assert.Equal((WindowsPartitionStyle.Mbr, 1), (disk.PartitionStyle, disk.PartitionCount));
        Assert.Equal([RecordedMachine.UsbE], disk.Volumes);
    }

    [Fact]
    public void ASpannedVolumeBelongsToEveryDiskItUses()
    {
        Assert.Contains(RecordedMachine.SpannedD, RecordedMachine.Describe(RecordedMachine.Ssd).Volumes);
        Assert.Contains(RecordedMachine.SpannedD, RecordedMachine.Describe(RecordedMachine.SecondSsd).Volumes);
    }

    [Fact]
    public void TrimReadsZerosOnlyWhenTheDiskTrimsAndPromisesZeros()
    {
        WindowsDisk promising = RecordedMachine.Describe(RecordedMachine.Ssd);
        WindowsDisk notPromising = RecordedMachine.Describe(RecordedMachine.SecondSsd);

        Assert.Equal((true, true, 1L << 20, 4096L), (promising.SupportsTrim, promising.TrimReadsZeros, promising.TrimGranularity, promising.TrimAlignment));
        Assert.Equal((true, false), (notPromising.SupportsTrim, notPromising.TrimReadsZeros));
    }

    [Fact]
    public void WriteProtectedMediaIsReadOnly() =>
        Assert.True(RecordedMachine.Describe(RecordedMachine.WriteProtectedCard).IsReadOnly);

    [Fact]
    public void TheOfflineAttributeIsKept() =>
        Assert.True(RecordedMachine.Describe(RecordedMachine.OfflineDisk).IsOffline);

    [Fact]
    public void WithoutReadAccessTheGeometryGivesTheLength()
    {
        var raw = new DiskQueryResults { Number = 9, GeometryEx = IoctlBytes.GeometryEx(64L << 30, 512) };

        Assert.Equal(64L << 30, WindowsDiskBuilder.Build(raw, [], RunningSystem.None).Length);
    }

    [Fact]
    public void ADiskWithNeitherLengthNorGeometryIsRejected() =>
        Assert.Throws<InvalidDataException>(() => WindowsDiskBuilder.Build(new DiskQueryResults { Number = 9 }, [], RunningSystem.None));

    [Fact]
    public void ANonsenseSectorSizeFallsBackTo512()
    {
        var raw = new DiskQueryResults { Number = 9, LengthInfo = IoctlBytes.LengthInfo(1 << 30), AccessAlignment = IoctlBytes.AccessAlignment(3000, 0) };

        WindowsDisk disk = WindowsDiskBuilder.Build(raw, [], RunningSystem.None);

        Assert.Equal((512, 512), (disk.LogicalSectorSize, disk.PhysicalSectorSize));
    }

    [Fact]
    public void TheDescriptionNamesTheDiskItsStateAndItsVolumes()
    {
        string text = RecordedMachine.Describe(RecordedMachine.Nvme).ToString();

        Assert.Contains(@"\\.\PhysicalDrive0", text, StringComparison.Ordinal);
        Assert.Contains("Samsung SSD 970 EVO Plus 1TB (Nvme)", text, StringComparison.Ordinal);
        Assert.Contains("931.5 GiB", text, StringComparison.Ordinal);
        Assert.Contains("system disk", text, StringComparison.Ordinal);
        Assert.Contains(@"C:\", text, StringComparison.Ordinal);
    }
}

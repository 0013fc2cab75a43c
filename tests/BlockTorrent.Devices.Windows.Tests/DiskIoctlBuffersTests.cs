using System.Text;

namespace BlockTorrent.Devices.Windows.Tests;

public sealed class DiskIoctlBuffersTests
{
    [Fact]
    public void TheLengthIsReadFromLengthInformation() =>
        Assert.Equal(1_000_204_886_016, DiskIoctlBuffers.ParseLength(IoctlBytes.LengthInfo(1_000_204_886_016)));

    [Fact]
    public void GeometryGivesDiskSizeAndBytesPerSector() =>
        Assert.Equal((64L << 30, 4096), DiskIoctlBuffers.ParseGeometry(IoctlBytes.GeometryEx(64L << 30, 4096)));

    [Fact]
    public void AccessAlignmentGivesLogicalAndPhysicalSectorSizes() =>
        Assert.Equal((512, 4096), DiskIoctlBuffers.ParseAccessAlignment(IoctlBytes.AccessAlignment(512, 4096)));

    [Fact]
    public void AnNvmeDescriptorWithoutVendorGivesProductRevisionSerialAndBus()
    {
        byte[] buffer = IoctlBytes.DeviceDescriptor(null, "Samsung SSD 970 EVO Plus 1TB", "2B2QEXM7", "0025_3857_81B1_2C4A.", busType: 17, removable: false);

        StorageDeviceInfo info = DiskIoctlBuffers.ParseDeviceDescriptor(buffer);

        Assert.Equal(new StorageDeviceInfo(string.Empty, "Samsung SSD 970 EVO Plus 1TB", "2B2QEXM7", "0025_3857_81B1_2C4A.", WindowsBusType.Nvme, IsRemovable: false), info);
    }

    [Fact]
    public void AUsbStickDescriptorHasItsSpacePaddingTrimmedAndIsRemovable()
    {
        byte[] buffer = IoctlBytes.DeviceDescriptor("SanDisk ", "Ultra USB 3.0   ", "1.00", "4C530001230815117", busType: 7, removable: true);

        StorageDeviceInfo info = DiskIoctlBuffers.ParseDeviceDescriptor(buffer);

        Assert.Equal(("SanDisk", "Ultra USB 3.0", WindowsBusType.Usb, true), (info.Vendor, info.Product, info.BusType, info.IsRemovable));
    }

    [Fact]
    public void AStringOffsetPastTheFilledBufferReadsAsAbsent()
    {
        byte[] buffer = IoctlBytes.DeviceDescriptor("ATA", "ST1000DM010", "CC43", "Z9A1B2C3", busType: 11, removable: false);

        // The driver filled only the fixed part (Size = 40): the offsets point at bytes it did not write.
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), 40);

        StorageDeviceInfo info = DiskIoctlBuffers.ParseDeviceDescriptor(buffer);

        Assert.Equal((string.Empty, string.Empty, WindowsBusType.Sata), (info.Vendor, info.Product, info.BusType));
    }

    [Fact]
    public void AnUnknownBusTypeNumberReadsAsUnknown() =>
        Assert.Equal(WindowsBusType.Unknown, DiskIoctlBuffers.ParseDeviceDescriptor(IoctlBytes.DeviceDescriptor("X", "Y", null, null, busType: 0x7E, removable: false)).BusType);

    [Fact]
    public void TrimEnabledIsRead()
    {
        Assert.True(DiskIoctlBuffers.ParseTrimEnabled(IoctlBytes.Trim(true)));
        Assert.False(DiskIoctlBuffers.ParseTrimEnabled(IoctlBytes.Trim(false)));
    }

    [Fact]
    public void ProvisioningGivesReadZerosGranularityAndAlignment() =>
        Assert.Equal(
            new LogicalBlockProvisioning(true, true, 1 << 20, 4096),
            DiskIoctlBuffers.ParseLogicalBlockProvisioning(IoctlBytes.Provisioning(readsZeros: true, granularity: 1 << 20, alignment: 4096), 512));

    [Fact]
    public void TheWindows8ProvisioningDescriptorOf32BytesIsAccepted() =>
        Assert.Equal(
            new LogicalBlockProvisioning(true, false, 4096, 0),
            DiskIoctlBuffers.ParseLogicalBlockProvisioning(IoctlBytes.Provisioning(readsZeros: false, granularity: 4096, alignment: null, windows8Form: true), 512));

    [Fact]
    public void AnUnreportedUnmapGranularityFallsBackToTheLogicalSector() =>
        Assert.Equal(4096, DiskIoctlBuffers.ParseLogicalBlockProvisioning(IoctlBytes.Provisioning(true, granularity: 0, alignment: null), 4096).Granularity);

    [Fact]
    public void AnAlignmentThatIsNotMarkedValidIsIgnored() =>
        Assert.Equal(0, DiskIoctlBuffers.ParseLogicalBlockProvisioning(IoctlBytes.Provisioning(true, granularity: 1 << 20, alignment: null), 512).Alignment);

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void DiskAttributesGiveOfflineAndReadOnly(bool offline, bool readOnly) =>
        Assert.Equal((offline, readOnly), DiskIoctlBuffers.ParseDiskAttributes(IoctlBytes.DiskAttributes(offline, readOnly)));

    [Fact]
    public void EveryExtentOfASpannedVolumeIsRead()
    {
        byte[] buffer = IoctlBytes.VolumeDiskExtents((1, 1 << 20, 10L << 30), (2, 1 << 20, 20L << 30));

        Assert.Equal(
            [new WindowsDiskExtent(1, 1 << 20, 10L << 30), new WindowsDiskExtent(2, 1 << 20, 20L << 30)],
            DiskIoctlBuffers.ParseVolumeDiskExtents(buffer));
    }

    [Fact]
    public void AnExtentCountBeyondTheReturnedBytesIsRejected()
    {
        byte[] buffer = IoctlBytes.VolumeDiskExtents((1, 0, 1 << 20));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(buffer, 5);

        Assert.Throws<InvalidDataException>(() => DiskIoctlBuffers.ParseVolumeDiskExtents(buffer));
    }

    [Fact]
    public void AGptLayoutCountsItsPartitions() =>
        Assert.Equal(
            (WindowsPartitionStyle.Gpt, 3),
            DiskIoctlBuffers.ParseDriveLayout(IoctlBytes.GptLayout((1 << 20, 100 << 20), (101 << 20, 16 << 20), (117 << 20, 50L << 30))));

    [Fact]
    public void AnMbrLayoutCountsOnlyTheSlotsInUse() =>
        Assert.Equal((WindowsPartitionStyle.Mbr, 2), DiskIoctlBuffers.ParseDriveLayout(IoctlBytes.MbrLayout(0x07, 0x0C, 0, 0)));

    [Fact]
    public void AMultiStringSplitsIntoItsMountPoints() =>
        Assert.Equal(["E:\\", "C:\\mnt\\data\\"], DiskIoctlBuffers.ParseMultiString("E:\\\0C:\\mnt\\data\\\0\0".AsSpan()));

    [Fact]
    public void AnEmptyMultiStringHasNoMountPoints() =>
        Assert.Empty(DiskIoctlBuffers.ParseMultiString("\0\0".AsSpan()));

    [Fact]
    public void ATooShortBufferIsRejectedNamingTheStructure()
    {
        var error = Assert.Throws<InvalidDataException>(() => DiskIoctlBuffers.ParseAccessAlignment(new byte[20]));

        Assert.Contains("STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APropertyQueryAsksForAStandardQueryOfTheProperty()
    {
        Interop.Kernel32.STORAGE_PROPERTY_QUERY query = DiskIoctlBuffers.PropertyQuery(Interop.Kernel32.StorageAccessAlignmentProperty);

        Assert.Equal((6, 0), (query.PropertyId, query.QueryType));
    }

    [Fact]
    public void DeviceStringsOutsideAsciiAreNotTrusted()
    {
        byte[] buffer = IoctlBytes.DeviceDescriptor("V", "P", null, null, 7, true);
        Encoding.Latin1.GetBytes("é").CopyTo(buffer, 40);

        Assert.Equal("?", DiskIoctlBuffers.ParseDeviceDescriptor(buffer).Vendor);
    }
}

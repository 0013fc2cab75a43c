using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static BlockTorrent.Devices.Windows.Interop.Kernel32;

namespace BlockTorrent.Devices.Windows.Tests;

// Sizes and offsets are those of the Windows ABI (x64 and ARM64 share them for these structs), as documented in
// winioctl.h and confirmed by the published struct layout dumps.
public sealed class StructLayoutTests
{
    public static TheoryData<Type, int> DocumentedSizes => new()
    {
        { typeof(STORAGE_PROPERTY_QUERY), 12 },
        { typeof(STORAGE_DEVICE_DESCRIPTOR), 40 },
        { typeof(STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR), 28 },
        { typeof(DEVICE_TRIM_DESCRIPTOR), 12 },
        { typeof(DEVICE_LB_PROVISIONING_DESCRIPTOR), 40 },
        { typeof(DISK_GEOMETRY), 24 },
        { typeof(DISK_GEOMETRY_EX), 40 },
        { typeof(GET_LENGTH_INFORMATION), 8 },
        { typeof(GET_DISK_ATTRIBUTES), 16 },
        { typeof(DISK_EXTENT), 24 },
        { typeof(VOLUME_DISK_EXTENTS), 32 },
        { typeof(DEVICE_MANAGE_DATA_SET_ATTRIBUTES), 28 },
        { typeof(DEVICE_DATA_SET_RANGE), 16 },
        { typeof(PARTITION_INFORMATION_MBR), 24 },
        { typeof(PARTITION_INFORMATION_GPT), 112 },
        { typeof(PARTITION_INFORMATION_EX), 144 },
        { typeof(DRIVE_LAYOUT_INFORMATION_EX), 192 },
    };

    public static TheoryData<Type, string, int> DocumentedOffsets => new()
    {
        { typeof(STORAGE_PROPERTY_QUERY), nameof(STORAGE_PROPERTY_QUERY.QueryType), 4 },
        { typeof(STORAGE_PROPERTY_QUERY), nameof(STORAGE_PROPERTY_QUERY.AdditionalParameters), 8 },
        { typeof(STORAGE_DEVICE_DESCRIPTOR), nameof(STORAGE_DEVICE_DESCRIPTOR.RemovableMedia), 10 },
        { typeof(STORAGE_DEVICE_DESCRIPTOR), nameof(STORAGE_DEVICE_DESCRIPTOR.VendorIdOffset), 12 },
        { typeof(STORAGE_DEVICE_DESCRIPTOR), nameof(STORAGE_DEVICE_DESCRIPTOR.ProductIdOffset), 16 },
        { typeof(STORAGE_DEVICE_DESCRIPTOR), nameof(STORAGE_DEVICE_DESCRIPTOR.ProductRevisionOffset), 20 },
        { typeof(STORAGE_DEVICE_DESCRIPTOR), nameof(STORAGE_DEVICE_DESCRIPTOR.SerialNumberOffset), 24 },
        { typeof(STORAGE_DEVICE_DESCRIPTOR), nameof(STORAGE_DEVICE_DESCRIPTOR.BusType), 28 },
        { typeof(STORAGE_DEVICE_DESCRIPTOR), nameof(STORAGE_DEVICE_DESCRIPTOR.RawPropertiesLength), 32 },
        { typeof(STORAGE_DEVICE_DESCRIPTOR), nameof(STORAGE_DEVICE_DESCRIPTOR.RawDeviceProperties), 36 },
        { typeof(STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR), nameof(STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR.BytesPerLogicalSector), 16 },
        { typeof(STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR), nameof(STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR.BytesPerPhysicalSector), 20 },
        { typeof(DEVICE_TRIM_DESCRIPTOR), nameof(DEVICE_TRIM_DESCRIPTOR.TrimEnabled), 8 },
        { typeof(DEVICE_LB_PROVISIONING_DESCRIPTOR), nameof(DEVICE_LB_PROVISIONING_DESCRIPTOR.Flags), 8 },
        { typeof(DEVICE_LB_PROVISIONING_DESCRIPTOR), nameof(DEVICE_LB_PROVISIONING_DESCRIPTOR.OptimalUnmapGranularity), 16 },
        { typeof(DEVICE_LB_PROVISIONING_DESCRIPTOR), nameof(DEVICE_LB_PROVISIONING_DESCRIPTOR.UnmapGranularityAlignment), 24 },
        { typeof(DEVICE_LB_PROVISIONING_DESCRIPTOR), nameof(DEVICE_LB_PROVISIONING_DESCRIPTOR.MaxUnmapLbaCount), 32 },
        { typeof(DEVICE_LB_PROVISIONING_DESCRIPTOR), nameof(DEVICE_LB_PROVISIONING_DESCRIPTOR.MaxUnmapBlockDescriptorCount), 36 },
        { typeof(DISK_GEOMETRY), nameof(DISK_GEOMETRY.MediaType), 8 },
        { typeof(DISK_GEOMETRY), nameof(DISK_GEOMETRY.BytesPerSector), 20 },
        { typeof(DISK_GEOMETRY_EX), nameof(DISK_GEOMETRY_EX.DiskSize), 24 },
        { typeof(DISK_GEOMETRY_EX), nameof(DISK_GEOMETRY_EX.Data), 32 },
        { typeof(GET_DISK_ATTRIBUTES), nameof(GET_DISK_ATTRIBUTES.Attributes), 8 },
        { typeof(DISK_EXTENT), nameof(DISK_EXTENT.StartingOffset), 8 },
        { typeof(DISK_EXTENT), nameof(DISK_EXTENT.ExtentLength), 16 },
        { typeof(VOLUME_DISK_EXTENTS), nameof(VOLUME_DISK_EXTENTS.Extents), 8 },
        { typeof(DEVICE_MANAGE_DATA_SET_ATTRIBUTES), nameof(DEVICE_MANAGE_DATA_SET_ATTRIBUTES.Action), 4 },
        { typeof(DEVICE_MANAGE_DATA_SET_ATTRIBUTES), nameof(DEVICE_MANAGE_DATA_SET_ATTRIBUTES.DataSetRangesOffset), 20 },
        { typeof(DEVICE_MANAGE_DATA_SET_ATTRIBUTES), nameof(DEVICE_MANAGE_DATA_SET_ATTRIBUTES.DataSetRangesLength), 24 },
        { typeof(DEVICE_DATA_SET_RANGE), nameof(DEVICE_DATA_SET_RANGE.LengthInBytes), 8 },
        { typeof(PARTITION_INFORMATION_MBR), nameof(PARTITION_INFORMATION_MBR.HiddenSectors), 4 },
        { typeof(PARTITION_INFORMATION_MBR), nameof(PARTITION_INFORMATION_MBR.PartitionId), 8 },
        { typeof(PARTITION_INFORMATION_GPT), nameof(PARTITION_INFORMATION_GPT.PartitionId), 16 },
        { typeof(PARTITION_INFORMATION_GPT), nameof(PARTITION_INFORMATION_GPT.Attributes), 32 },
        { typeof(PARTITION_INFORMATION_GPT), nameof(PARTITION_INFORMATION_GPT.Name), 40 },
        { typeof(PARTITION_INFORMATION_EX), nameof(PARTITION_INFORMATION_EX.StartingOffset), 8 },
        { typeof(PARTITION_INFORMATION_EX), nameof(PARTITION_INFORMATION_EX.PartitionLength), 16 },
        { typeof(PARTITION_INFORMATION_EX), nameof(PARTITION_INFORMATION_EX.PartitionNumber), 24 },
        { typeof(PARTITION_INFORMATION_EX), nameof(PARTITION_INFORMATION_EX.RewritePartition), 28 },
        { typeof(PARTITION_INFORMATION_EX), nameof(PARTITION_INFORMATION_EX.IsServicePartition), 29 },
        { typeof(PARTITION_INFORMATION_EX), nameof(PARTITION_INFORMATION_EX.Mbr), 32 },
        { typeof(PARTITION_INFORMATION_EX), nameof(PARTITION_INFORMATION_EX.Gpt), 32 },
        { typeof(DRIVE_LAYOUT_INFORMATION_EX), nameof(DRIVE_LAYOUT_INFORMATION_EX.PartitionCount), 4 },
        { typeof(DRIVE_LAYOUT_INFORMATION_EX), nameof(DRIVE_LAYOUT_INFORMATION_EX.GptDiskId), 8 },
        { typeof(DRIVE_LAYOUT_INFORMATION_EX), nameof(DRIVE_LAYOUT_INFORMATION_EX.GptStartingUsableOffset), 24 },
        { typeof(DRIVE_LAYOUT_INFORMATION_EX), nameof(DRIVE_LAYOUT_INFORMATION_EX.GptUsableLength), 32 },
        { typeof(DRIVE_LAYOUT_INFORMATION_EX), nameof(DRIVE_LAYOUT_INFORMATION_EX.GptMaxPartitionCount), 40 },
        { typeof(DRIVE_LAYOUT_INFORMATION_EX), nameof(DRIVE_LAYOUT_INFORMATION_EX.PartitionEntry), 48 },
    };

    [Theory]
    [MemberData(nameof(DocumentedSizes))]
    public void EachStructHasTheDocumentedSizeInManagedMemory(Type type, int documented)
    {
        int size = (int)typeof(Unsafe).GetMethod(nameof(Unsafe.SizeOf))!.MakeGenericMethod(type).Invoke(null, null)!;
        Assert.Equal(documented, size);
    }

    [Theory]
    [MemberData(nameof(DocumentedSizes))]
    public void EachStructHasTheDocumentedSizeWhenMarshalled(Type type, int documented) =>
        Assert.Equal(documented, Marshal.SizeOf(type));

    [Theory]
    [MemberData(nameof(DocumentedOffsets))]
    public void EachFieldSitsAtItsDocumentedOffset(Type type, string field, int documented) =>
        Assert.Equal(documented, (int)Marshal.OffsetOf(type, field));
}

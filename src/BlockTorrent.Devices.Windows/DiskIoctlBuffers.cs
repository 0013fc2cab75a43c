using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using static BlockTorrent.Devices.Windows.Interop.Kernel32;

namespace BlockTorrent.Devices.Windows;

/// <summary>
/// Reads and builds the byte buffers of the disk IOCTLs. Pure functions over spans, so every layout decision is
/// tested on any platform with recorded or constructed bytes; only <see cref="WindowsDiskProbe"/> talks to Windows.
/// Windows is little-endian on every architecture it runs on, and so are these layouts.
/// </summary>
internal static class DiskIoctlBuffers
{
    /// <summary>Builds the STORAGE_PROPERTY_QUERY for a standard query of <paramref name="propertyId"/>.</summary>
    internal static STORAGE_PROPERTY_QUERY PropertyQuery(int propertyId) => new() { PropertyId = propertyId, QueryType = PropertyStandardQuery };

    /// <summary>Reads the disk length from IOCTL_DISK_GET_LENGTH_INFO's output.</summary>
    internal static long ParseLength(ReadOnlySpan<byte> buffer) => Read<GET_LENGTH_INFORMATION>(buffer, "GET_LENGTH_INFORMATION").Length;

    /// <summary>Reads size and bytes per sector from IOCTL_DISK_GET_DRIVE_GEOMETRY_EX's output.</summary>
    internal static (long DiskSize, int BytesPerSector) ParseGeometry(ReadOnlySpan<byte> buffer)
    {
        // The variable Data part is not needed: the fixed part ends at DiskSize (32 bytes).
        DISK_GEOMETRY_EX geometry = Read<DISK_GEOMETRY_EX>(buffer, "DISK_GEOMETRY_EX", minimumLength: 32);
        return (geometry.DiskSize, checked((int)geometry.Geometry.BytesPerSector));
    }

    /// <summary>Reads logical and physical sector sizes from a STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR.</summary>
    internal static (int Logical, int Physical) ParseAccessAlignment(ReadOnlySpan<byte> buffer)
    {
        STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR alignment = Read<STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR>(buffer, "STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR");
        return (checked((int)alignment.BytesPerLogicalSector), checked((int)alignment.BytesPerPhysicalSector));
    }

    /// <summary>Reads identity, bus and removability from a STORAGE_DEVICE_DESCRIPTOR and the strings after it.</summary>
    internal static StorageDeviceInfo ParseDeviceDescriptor(ReadOnlySpan<byte> buffer)
    {
        STORAGE_DEVICE_DESCRIPTOR descriptor = Read<STORAGE_DEVICE_DESCRIPTOR>(buffer, "STORAGE_DEVICE_DESCRIPTOR", minimumLength: 36);

        // Size says how much of the buffer the driver filled; never read strings past either end.
        ReadOnlySpan<byte> filled = buffer[..(int)Math.Min((uint)buffer.Length, Math.Max(descriptor.Size, 36u))];
        return new StorageDeviceInfo(
            Vendor: ReadAnsiString(filled, descriptor.VendorIdOffset),
            Product: ReadAnsiString(filled, descriptor.ProductIdOffset),
            Revision: ReadAnsiString(filled, descriptor.ProductRevisionOffset),
            SerialNumber: ReadAnsiString(filled, descriptor.SerialNumberOffset),
            BusType: Enum.IsDefined((WindowsBusType)descriptor.BusType) ? (WindowsBusType)descriptor.BusType : WindowsBusType.Unknown,
            IsRemovable: descriptor.RemovableMedia != 0);
    }

    /// <summary>Reads whether TRIM is enabled from a DEVICE_TRIM_DESCRIPTOR.</summary>
    internal static bool ParseTrimEnabled(ReadOnlySpan<byte> buffer) => Read<DEVICE_TRIM_DESCRIPTOR>(buffer, "DEVICE_TRIM_DESCRIPTOR", minimumLength: 9).TrimEnabled != 0;

    /// <summary>Reads thin provisioning facts from a DEVICE_LB_PROVISIONING_DESCRIPTOR (32 bytes before Windows 8.1, 40 after).</summary>
    internal static LogicalBlockProvisioning ParseLogicalBlockProvisioning(ReadOnlySpan<byte> buffer, int logicalSectorSize)
    {
        DEVICE_LB_PROVISIONING_DESCRIPTOR descriptor = Read<DEVICE_LB_PROVISIONING_DESCRIPTOR>(buffer, "DEVICE_LB_PROVISIONING_DESCRIPTOR", minimumLength: 32);

        // A granularity of 0 means "not reported": any sector then unmaps on its own.
        long granularity = descriptor.OptimalUnmapGranularity is > 0 and <= int.MaxValue ? (long)descriptor.OptimalUnmapGranularity : logicalSectorSize;
        granularity = SectorMath.AlignUp(granularity, logicalSectorSize);
        long alignment = descriptor.UnmapGranularityAlignmentValid && descriptor.UnmapGranularityAlignment < (ulong)granularity
            ? (long)descriptor.UnmapGranularityAlignment
            : 0;
        return new LogicalBlockProvisioning(descriptor.ThinProvisioningEnabled, descriptor.ThinProvisioningReadZeros, granularity, alignment);
    }

    /// <summary>Reads the offline and read-only attributes from GET_DISK_ATTRIBUTES.</summary>
    internal static (bool Offline, bool ReadOnly) ParseDiskAttributes(ReadOnlySpan<byte> buffer)
    {
        ulong attributes = Read<GET_DISK_ATTRIBUTES>(buffer, "GET_DISK_ATTRIBUTES").Attributes;
        return ((attributes & DISK_ATTRIBUTE_OFFLINE) != 0, (attributes & DISK_ATTRIBUTE_READ_ONLY) != 0);
    }

    /// <summary>Reads every extent of a VOLUME_DISK_EXTENTS.</summary>
    internal static List<WindowsDiskExtent> ParseVolumeDiskExtents(ReadOnlySpan<byte> buffer)
    {
        uint count = Read<VOLUME_DISK_EXTENTS>(buffer, "VOLUME_DISK_EXTENTS", minimumLength: 4).NumberOfDiskExtents;
        int extentSize = Unsafe.SizeOf<DISK_EXTENT>();
        if (count > (uint)((buffer.Length - 8) / extentSize))
        {
            throw new InvalidDataException($"VOLUME_DISK_EXTENTS claims {count} extents but only {buffer.Length} bytes were returned.");
        }

        var extents = new List<WindowsDiskExtent>((int)count);
        for (int i = 0; i < (int)count; i++)
        {
            DISK_EXTENT extent = MemoryMarshal.Read<DISK_EXTENT>(buffer.Slice(8 + (i * extentSize), extentSize));
            extents.Add(new WindowsDiskExtent(checked((int)extent.DiskNumber), extent.StartingOffset, extent.ExtentLength));
        }

        return extents;
    }

    /// <summary>Reads the partition style and the number of partitions in use from DRIVE_LAYOUT_INFORMATION_EX.</summary>
    internal static (WindowsPartitionStyle Style, int PartitionCount) ParseDriveLayout(ReadOnlySpan<byte> buffer)
    {
        DRIVE_LAYOUT_INFORMATION_EX header = Read<DRIVE_LAYOUT_INFORMATION_EX>(buffer, "DRIVE_LAYOUT_INFORMATION_EX", minimumLength: DRIVE_LAYOUT_INFORMATION_EX.PartitionEntryOffset);
        WindowsPartitionStyle style = header.PartitionStyle switch
        {
            PARTITION_STYLE_MBR => WindowsPartitionStyle.Mbr,
            PARTITION_STYLE_GPT => WindowsPartitionStyle.Gpt,
            _ => WindowsPartitionStyle.Raw,
        };

        int entrySize = Unsafe.SizeOf<PARTITION_INFORMATION_EX>();
        int available = (buffer.Length - DRIVE_LAYOUT_INFORMATION_EX.PartitionEntryOffset) / entrySize;
        int entries = (int)Math.Min(header.PartitionCount, (uint)Math.Max(available, 0));
        int used = 0;
        for (int i = 0; i < entries; i++)
        {
            PARTITION_INFORMATION_EX entry = MemoryMarshal.Read<PARTITION_INFORMATION_EX>(buffer.Slice(DRIVE_LAYOUT_INFORMATION_EX.PartitionEntryOffset + (i * entrySize), entrySize));

            // MBR layouts come in groups of four with unused slots of type 0; GPT layouts list only used entries.
            bool inUse = entry.PartitionStyle == PARTITION_STYLE_MBR ? entry.Mbr.PartitionType != 0 : entry.PartitionLength > 0;
            if (inUse)
            {
                used++;
            }
        }

        return (style, used);
    }

    /// <summary>Splits the MULTI_SZ list GetVolumePathNamesForVolumeNameW returns into its strings.</summary>
    internal static List<string> ParseMultiString(ReadOnlySpan<char> buffer)
    {
        var strings = new List<string>();
        while (!buffer.IsEmpty)
        {
            int end = buffer.IndexOf('\0');
            if (end == 0)
            {
                break;
            }

            if (end < 0)
            {
                end = buffer.Length;
            }

            strings.Add(buffer[..end].ToString());
            buffer = end < buffer.Length ? buffer[(end + 1)..] : [];
        }

        return strings;
    }

    /// <summary>Reads a blittable struct from the start of a buffer; a short buffer is zero-extended down to <paramref name="minimumLength"/>.</summary>
    internal static T Read<T>(ReadOnlySpan<byte> buffer, string name, int minimumLength = -1)
        where T : unmanaged
    {
        int size = Unsafe.SizeOf<T>();
        if (buffer.Length >= size)
        {
            return MemoryMarshal.Read<T>(buffer);
        }

        if (minimumLength < 0 || buffer.Length < minimumLength)
        {
            throw new InvalidDataException($"{name} needs {(minimumLength < 0 ? size : minimumLength)} bytes but {buffer.Length} were returned.");
        }

        Span<byte> padded = stackalloc byte[size];
        padded.Clear();
        buffer.CopyTo(padded);
        return MemoryMarshal.Read<T>(padded);
    }

    private static string ReadAnsiString(ReadOnlySpan<byte> buffer, uint offset)
    {
        if (offset == 0 || offset >= (uint)buffer.Length)
        {
            return string.Empty;
        }

        ReadOnlySpan<byte> text = buffer[(int)offset..];
        int end = text.IndexOf((byte)0);
        if (end >= 0)
        {
            text = text[..end];
        }

        // Device strings are ASCII padded with spaces; anything else is replaced rather than trusted.
        return Encoding.ASCII.GetString(text).Trim();
    }
}

using System.Buffers.Binary;
using System.Text;

namespace BlockTorrent.Devices.Windows.Tests;

/// <summary>
/// Builds IOCTL output buffers byte by byte at the offsets the Windows documentation gives, independently of the
/// package's struct definitions, so parsing is checked against the ABI and not against itself.
/// </summary>
internal static class IoctlBytes
{
    internal static byte[] LengthInfo(long length)
    {
        byte[] buffer = new byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(buffer, length);
        return buffer;
    }

    internal static byte[] GeometryEx(long diskSize, int bytesPerSector)
    {
        // DISK_GEOMETRY (Cylinders, MediaType, TracksPerCylinder, SectorsPerTrack, BytesPerSector), DiskSize, then
        // DISK_PARTITION_INFO / DISK_DETECTION_INFO, which real disks return too (here 64 bytes of them).
        byte[] buffer = new byte[32 + 64];
        long cylinders = diskSize / (255L * 63 * bytesPerSector);
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(0), cylinders);
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(8), 12); // FixedMedia
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(12), 255);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(16), 63);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(20), (uint)bytesPerSector);
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(24), diskSize);
        return buffer;
    }

    internal static byte[] AccessAlignment(int logical, int physical)
    {
        byte[] buffer = new byte[28];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(0), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), 28);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(8), 64);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(16), (uint)logical);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(20), (uint)physical);
        return buffer;
    }

    /// <summary>A STORAGE_DEVICE_DESCRIPTOR followed by its strings; a <see langword="null"/> string gets offset 0.</summary>
    internal static byte[] DeviceDescriptor(string? vendor, string? product, string? revision, string? serial, int busType, bool removable)
    {
        var strings = new MemoryStream();
        uint Place(string? text)
        {
            if (text is null)
            {
                return 0;
            }

            uint offset = (uint)(40 + strings.Length);
            strings.Write(Encoding.ASCII.GetBytes(text));
            strings.WriteByte(0);
            return offset;
        }

        uint vendorOffset = Place(vendor);
        uint productOffset = Place(product);
        uint revisionOffset = Place(revision);
        uint serialOffset = Place(serial);
        byte[] buffer = new byte[40 + strings.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(0), 40);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), (uint)buffer.Length);
        buffer[8] = 0; // DIRECT_ACCESS_DEVICE
        buffer[10] = removable ? (byte)1 : (byte)0;
        buffer[11] = 1;
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(12), vendorOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(16), productOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(20), revisionOffset);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(24), serialOffset);
        BinaryPrimitives.WriteInt32LittleEndian(buffer.AsSpan(28), busType);
        strings.ToArray().CopyTo(buffer, 40);
        return buffer;
    }

    internal static byte[] Trim(bool enabled)
    {
        byte[] buffer = new byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(0), 12);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), 12);
        buffer[8] = enabled ? (byte)1 : (byte)0;
        return buffer;
    }

    /// <summary>A DEVICE_LB_PROVISIONING_DESCRIPTOR: 40 bytes, or the 32-byte form of Windows 8.</summary>
    internal static byte[] Provisioning(bool readsZeros, ulong granularity, ulong? alignment, bool windows8Form = false)
    {
        byte[] buffer = new byte[windows8Form ? 32 : 40];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(0), 1);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), (uint)buffer.Length);
        byte flags = 0x01; // ThinProvisioningEnabled
        if (readsZeros)
        {
            flags |= 0x02;
        }

        if (alignment is not null)
        {
            flags |= 0x20; // UnmapGranularityAlignmentValid
        }

        buffer[8] = flags;
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(16), granularity);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(24), alignment ?? 0);
        return buffer;
    }

    internal static byte[] DiskAttributes(bool offline, bool readOnly)
    {
        byte[] buffer = new byte[16];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(0), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(8), (offline ? 1UL : 0) | (readOnly ? 2UL : 0));
        return buffer;
    }

    internal static byte[] VolumeDiskExtents(params (int Disk, long Offset, long Length)[] extents)
    {
        byte[] buffer = new byte[8 + (24 * Math.Max(extents.Length, 1))];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(0), (uint)extents.Length);
        for (int i = 0; i < extents.Length; i++)
        {
            Span<byte> entry = buffer.AsSpan(8 + (24 * i), 24);
            BinaryPrimitives.WriteUInt32LittleEndian(entry, (uint)extents[i].Disk);
            BinaryPrimitives.WriteInt64LittleEndian(entry[8..], extents[i].Offset);
            BinaryPrimitives.WriteInt64LittleEndian(entry[16..], extents[i].Length);
        }

        return buffer;
    }

    /// <summary>A GPT DRIVE_LAYOUT_INFORMATION_EX with the given partitions (start, length).</summary>
    internal static byte[] GptLayout(params (long Start, long Length)[] partitions)
    {
        byte[] buffer = new byte[48 + (144 * partitions.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(0), 1); // PARTITION_STYLE_GPT
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), (uint)partitions.Length);
        Guid.NewGuid().TryWriteBytes(buffer.AsSpan(8));
        BinaryPrimitives.WriteInt64LittleEndian(buffer.AsSpan(24), 17408);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(40), 128);
        for (int i = 0; i < partitions.Length; i++)
        {
            Span<byte> entry = buffer.AsSpan(48 + (144 * i), 144);
            BinaryPrimitives.WriteUInt32LittleEndian(entry, 1);
            BinaryPrimitives.WriteInt64LittleEndian(entry[8..], partitions[i].Start);
            BinaryPrimitives.WriteInt64LittleEndian(entry[16..], partitions[i].Length);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[24..], (uint)(i + 1));
            Encoding.Unicode.GetBytes("Basic data partition").CopyTo(entry[(32 + 40)..]);
        }

        return buffer;
    }

    /// <summary>An MBR DRIVE_LAYOUT_INFORMATION_EX: four slots, the given partition types (0 = unused).</summary>
    internal static byte[] MbrLayout(params byte[] types)
    {
        byte[] buffer = new byte[48 + (144 * types.Length)];
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(0), 0); // PARTITION_STYLE_MBR
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(4), (uint)types.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer.AsSpan(8), 0x1234ABCD);
        for (int i = 0; i < types.Length; i++)
        {
            Span<byte> entry = buffer.AsSpan(48 + (144 * i), 144);
            BinaryPrimitives.WriteUInt32LittleEndian(entry, 0);
            if (types[i] != 0)
            {
                BinaryPrimitives.WriteInt64LittleEndian(entry[8..], 1 << 20);
                BinaryPrimitives.WriteInt64LittleEndian(entry[16..], 100 << 20);
                BinaryPrimitives.WriteUInt32LittleEndian(entry[24..], (uint)(i + 1));
            }

            entry[32] = types[i];
        }

        return buffer;
    }
}

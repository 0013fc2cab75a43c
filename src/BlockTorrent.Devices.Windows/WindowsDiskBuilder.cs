namespace BlockTorrent.Devices.Windows;

/// <summary>Turns the raw IOCTL outputs of a disk, the volumes and the running system into a <see cref="WindowsDisk"/>. Pure.</summary>
internal static class WindowsDiskBuilder
{
    private const int DefaultSectorSize = 512;

    internal static WindowsDisk Build(DiskQueryResults raw, IReadOnlyList<WindowsVolume> allVolumes, RunningSystem runningSystem)
    {
        ArgumentNullException.ThrowIfNull(raw);
        ArgumentNullException.ThrowIfNull(allVolumes);
        ArgumentNullException.ThrowIfNull(runningSystem);

        int logical = 0;
        int physical = 0;
        if (raw.AccessAlignment is not null)
        {
            (logical, physical) = DiskIoctlBuffers.ParseAccessAlignment(raw.AccessAlignment);
        }

        if (logical <= 0 && raw.GeometryEx is not null)
        {
            logical = DiskIoctlBuffers.ParseGeometry(raw.GeometryEx).BytesPerSector;
        }

        logical = IsSectorSize(logical) ? logical : DefaultSectorSize;
        physical = IsSectorSize(physical) && physical % logical == 0 ? physical : logical;

        // Unbuffered I/O moves whole sectors, so a trailing partial sector (never seen on real disks) is not addressable.
        long reported = raw.LengthInfo is not null
            ? DiskIoctlBuffers.ParseLength(raw.LengthInfo)
            : raw.GeometryEx is not null
                ? DiskIoctlBuffers.ParseGeometry(raw.GeometryEx).DiskSize
                : throw new InvalidDataException($"Disk {raw.Number} reported neither its length nor its geometry.");
        long length = SectorMath.AlignDown(reported, logical);

        StorageDeviceInfo device = raw.DeviceDescriptor is null ? default : DiskIoctlBuffers.ParseDeviceDescriptor(raw.DeviceDescriptor);
        bool trim = raw.Trim is not null && DiskIoctlBuffers.ParseTrimEnabled(raw.Trim);
        LogicalBlockProvisioning? provisioning = raw.LogicalBlockProvisioning is null
            ? null
            : DiskIoctlBuffers.ParseLogicalBlockProvisioning(raw.LogicalBlockProvisioning, logical);
        (bool offline, bool readOnly) = raw.DiskAttributes is null ? (false, false) : DiskIoctlBuffers.ParseDiskAttributes(raw.DiskAttributes);
        (WindowsPartitionStyle style, int partitions) = raw.DriveLayout is null ? (WindowsPartitionStyle.Raw, 0) : DiskIoctlBuffers.ParseDriveLayout(raw.DriveLayout);

        return new WindowsDisk
        {
            Number = raw.Number,
            Length = length,
            Vendor = device.Vendor ?? string.Empty,
            Product = device.Product ?? string.Empty,
            Revision = device.Revision ?? string.Empty,
            SerialNumber = device.SerialNumber ?? string.Empty,
            BusType = device.BusType,
            IsRemovable = device.IsRemovable,
            IsReadOnly = readOnly || raw.WriteProtected,
            IsOffline = offline,
            LogicalSectorSize = logical,
            PhysicalSectorSize = physical,
            SupportsTrim = trim,
            TrimReadsZeros = trim && provisioning is { ReadsZerosAfterUnmap: true },
            TrimGranularity = provisioning?.Granularity ?? logical,
            TrimAlignment = provisioning?.Alignment ?? 0,
            PartitionStyle = style,
            PartitionCount = partitions,
            HoldsBootVolume = runningSystem.BootDisks.Contains(raw.Number),
            HoldsSystemVolume = runningSystem.SystemDisks.Contains(raw.Number),
            BootVolume = runningSystem.BootVolume,
            SystemVolume = runningSystem.SystemVolume,
            Volumes = allVolumes.Where(v => v.IsOnDisk(raw.Number)).ToArray(),
        };
    }

    private static bool IsSectorSize(int size) => size >= 512 && size <= 65536 && (size & (size - 1)) == 0;
}

using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Win32;
using Microsoft.Win32.SafeHandles;
using static BlockTorrent.Devices.Windows.Interop.Errors;
using static BlockTorrent.Devices.Windows.Interop.Kernel32;

namespace BlockTorrent.Devices.Windows;

/// <summary>
/// The Windows half of disk description: opens disks and volumes, runs the query IOCTLs and hands their raw
/// outputs to the pure <see cref="WindowsDiskBuilder"/>. Every call here is a system call; no decision is made here.
/// </summary>
[SupportedOSPlatform("windows")]
internal static unsafe class WindowsDiskProbe
{
    /// <summary>Enough for any GUID path (<c>\\?\Volume{GUID}\</c> is 49 characters) and most mount point lists.</summary>
    private const int PathBufferLength = 1024;

    /// <summary>Query outputs grow on ERROR_INSUFFICIENT_BUFFER/ERROR_MORE_DATA up to this size.</summary>
    private const int MaxOutputLength = 1 << 20;

    /// <summary>Disk numbers are probed until this many in a row do not exist past the highest one a volume uses.</summary>
    private const int ProbeMisses = 16;

    /// <summary>Opens a disk or volume device; a missing disk is refused as not a block device.</summary>
    internal static SafeFileHandle Open(string path, uint access, uint flags)
    {
        SafeFileHandle handle = CreateFile(path, access, FILE_SHARE_READ | FILE_SHARE_WRITE, 0, OPEN_EXISTING, flags, 0);
        if (!handle.IsInvalid)
        {
            return handle;
        }

        int error = Marshal.GetLastPInvokeError();
        handle.Dispose();
        if (error is ERROR_FILE_NOT_FOUND or ERROR_PATH_NOT_FOUND)
        {
            throw new DeviceSafetyException(path, DeviceRefusalReason.NotABlockDevice, $"there is no such device ({Marshal.GetPInvokeErrorMessage(error)}).");
        }

        string message = Marshal.GetPInvokeErrorMessage(error);
        if (error == ERROR_ACCESS_DENIED)
        {
            message += " Opening a physical disk needs an elevated (Administrator) process.";
        }

        throw new BlockDeviceIOException(path, "CreateFile", offset: null, error, Win32Error.Classify(error), message);
    }

    /// <summary>Sends a control code with no input and no output, throwing a typed exception on failure.</summary>
    internal static void Control(SafeHandle device, string deviceName, uint code, string codeName)
    {
        if (!DeviceIoControl(device, code, null, 0, null, 0, out _, null))
        {
            Win32Error.ThrowLastError(deviceName, $"DeviceIoControl({codeName})");
        }
    }

    /// <summary>Sends a control code with an input buffer and no output, throwing a typed exception on failure.</summary>
    internal static void Control(SafeHandle device, string deviceName, uint code, string codeName, ReadOnlySpan<byte> input, long? offset)
    {
        fixed (byte* pInput = input)
        {
            if (!DeviceIoControl(device, code, pInput, (uint)input.Length, null, 0, out _, null))
            {
                Win32Error.ThrowLastError(deviceName, $"DeviceIoControl({codeName})", offset);
            }
        }
    }

    /// <summary>Sends a query control code; returns its output, or <see langword="null"/> with the error when the device refuses it.</summary>
    internal static byte[]? TryQuery(SafeHandle device, uint code, ReadOnlySpan<byte> input, int outputLength, out int error)
    {
        while (true)
        {
            byte[] output = new byte[outputLength];
            fixed (byte* pInput = input)
            fixed (byte* pOutput = output)
            {
                if (DeviceIoControl(device, code, pInput, (uint)input.Length, pOutput, (uint)output.Length, out uint returned, null))
                {
                    error = ERROR_SUCCESS;
                    return output.AsSpan(0, (int)returned).ToArray();
                }
            }

            error = Marshal.GetLastPInvokeError();
            if (error is not (ERROR_INSUFFICIENT_BUFFER or ERROR_MORE_DATA) || outputLength >= MaxOutputLength)
            {
                return null;
            }

            outputLength *= 2;
        }
    }

    /// <summary>Queries a STORAGE_PROPERTY_ID with a standard query.</summary>
    internal static byte[]? TryQueryProperty(SafeHandle device, int propertyId, int outputLength)
    {
        STORAGE_PROPERTY_QUERY query = DiskIoctlBuffers.PropertyQuery(propertyId);
        return TryQuery(device, IOCTL_STORAGE_QUERY_PROPERTY, new ReadOnlySpan<byte>(&query, sizeof(STORAGE_PROPERTY_QUERY)), outputLength, out _);
    }

    /// <summary>Runs every description query on an open disk handle.</summary>
    internal static DiskQueryResults Query(SafeFileHandle disk, int number)
    {
        byte[]? lengthInfo = TryQuery(disk, IOCTL_DISK_GET_LENGTH_INFO, [], Unsafe.SizeOf<GET_LENGTH_INFORMATION>(), out _);
        byte[]? geometry = TryQuery(disk, IOCTL_DISK_GET_DRIVE_GEOMETRY_EX, [], 256, out _);
        bool writable = DeviceIoControl(disk, IOCTL_DISK_IS_WRITABLE, null, 0, null, 0, out _, null);
        bool writeProtected = !writable && Marshal.GetLastPInvokeError() == ERROR_WRITE_PROTECT;
        return new DiskQueryResults
        {
            Number = number,
            LengthInfo = lengthInfo,
            GeometryEx = geometry,
            AccessAlignment = TryQueryProperty(disk, StorageAccessAlignmentProperty, Unsafe.SizeOf<STORAGE_ACCESS_ALIGNMENT_DESCRIPTOR>()),
            DeviceDescriptor = TryQueryProperty(disk, StorageDeviceProperty, 4096),
            Trim = TryQueryProperty(disk, StorageDeviceTrimProperty, Unsafe.SizeOf<DEVICE_TRIM_DESCRIPTOR>()),
            LogicalBlockProvisioning = TryQueryProperty(disk, StorageDeviceLBProvisioningProperty, Unsafe.SizeOf<DEVICE_LB_PROVISIONING_DESCRIPTOR>()),
            DiskAttributes = TryQuery(disk, IOCTL_DISK_GET_DISK_ATTRIBUTES, [], Unsafe.SizeOf<GET_DISK_ATTRIBUTES>(), out _),
            WriteProtected = writeProtected,
            DriveLayout = TryQuery(disk, IOCTL_DISK_GET_DRIVE_LAYOUT_EX, [], 4096, out _),
        };
    }

    /// <summary>Describes the disk behind an open handle, with its volumes and whether it holds the running system.</summary>
    internal static WindowsDisk Describe(SafeFileHandle disk, int number)
    {
        List<WindowsVolume> volumes = EnumerateVolumes();
        return WindowsDiskBuilder.Build(Query(disk, number), volumes, FindRunningSystem(volumes));
    }

    /// <summary>Describes every physical disk, probing <c>\\.\PhysicalDrive0</c> upwards.</summary>
    internal static List<WindowsDisk> DescribeAll(CancellationToken cancellationToken)
    {
        List<WindowsVolume> volumes = EnumerateVolumes();
        RunningSystem runningSystem = FindRunningSystem(volumes);
        int highest = volumes.SelectMany(v => v.Extents).Select(e => e.DiskNumber).DefaultIfEmpty(-1).Max();
        var disks = new List<WindowsDisk>();
        int misses = 0;

        // Disk numbers can have gaps (a disk removed since boot), so probing continues past a missing number.
        for (int number = 0; number <= highest || misses < ProbeMisses; number++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string path = PhysicalDrivePath.Format(number);

            // GENERIC_READ lets IOCTL_DISK_GET_LENGTH_INFO run; without elevation only access 0 is granted, and the
            // geometry's disk size then stands in for the length.
            SafeFileHandle handle = CreateFile(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, 0, OPEN_EXISTING, 0, 0);
            if (handle.IsInvalid && Marshal.GetLastPInvokeError() == ERROR_ACCESS_DENIED)
            {
                handle.Dispose();
                handle = CreateFile(path, 0, FILE_SHARE_READ | FILE_SHARE_WRITE, 0, OPEN_EXISTING, 0, 0);
            }

            using (handle)
            {
                if (handle.IsInvalid)
                {
                    misses++;
                    continue;
                }

                misses = 0;
                disks.Add(WindowsDiskBuilder.Build(Query(handle, number), volumes, runningSystem));
            }
        }

        return disks;
    }

    /// <summary>Lists every volume that has disk extents, with its mount points.</summary>
    internal static List<WindowsVolume> EnumerateVolumes()
    {
        var volumes = new List<WindowsVolume>();
        char* name = stackalloc char[PathBufferLength];
        using SafeFindVolumeHandle find = FindFirstVolume(name, PathBufferLength);
        if (find.IsInvalid)
        {
            int error = Marshal.GetLastPInvokeError();
            if (error == ERROR_NO_MORE_FILES)
            {
                return volumes;
            }

            throw Win32Error.Create("volumes", "FindFirstVolume", offset: null, error);
        }

        do
        {
            string guidPath = new(name);
            if (TryDescribeVolume(guidPath) is { } volume)
            {
                volumes.Add(volume);
            }
        }
        while (FindNextVolume(find, name, PathBufferLength));

        int last = Marshal.GetLastPInvokeError();
        if (last != ERROR_NO_MORE_FILES)
        {
            throw Win32Error.Create("volumes", "FindNextVolume", offset: null, last);
        }

        return volumes;
    }

    /// <summary>Finds the disks of the boot volume (the Windows directory's) and of the system volume (the firmware's).</summary>
    internal static RunningSystem FindRunningSystem(IReadOnlyList<WindowsVolume> volumes)
    {
        string? bootName = null;
        int[] bootDisks = [];
        string windows = Environment.GetFolderPath(Environment.SpecialFolder.Windows);
        if (GetVolumeMountPoint(windows) is { } mountPoint && GetVolumeGuidPath(mountPoint) is { } guidPath)
        {
            WindowsVolume? boot = volumes.FirstOrDefault(v => string.Equals(v.GuidPath, guidPath, StringComparison.OrdinalIgnoreCase));
            bootName = $"{mountPoint}, holding {windows}";
            bootDisks = boot?.Extents.Select(e => e.DiskNumber).Distinct().ToArray() ?? [];
        }

        string? systemName = null;
        int[] systemDisks = [];

        // Setup records the partition the firmware boots from as an NT device path, for example \Device\HarddiskVolume1.
        using RegistryKey? setup = Registry.LocalMachine.OpenSubKey(@"SYSTEM\Setup");
        if (setup?.GetValue("SystemPartition") is string systemPartition && systemPartition.Length > 0)
        {
            systemName = systemPartition;
            systemDisks = GetExtents(PhysicalDrivePath.FromNtDevicePath(systemPartition))?.Select(e => e.DiskNumber).Distinct().ToArray() ?? [];
        }

        return new RunningSystem(bootName, bootDisks, systemName, systemDisks);
    }

    /// <summary>Reads the disk extents of a volume opened by path, or <see langword="null"/> when it has none (optical drives, RAM disks).</summary>
    internal static List<WindowsDiskExtent>? GetExtents(string volumeDevicePath)
    {
        SafeFileHandle handle = CreateFile(volumeDevicePath, 0, FILE_SHARE_READ | FILE_SHARE_WRITE, 0, OPEN_EXISTING, 0, 0);
        using (handle)
        {
            if (handle.IsInvalid)
            {
                return null;
            }

            byte[]? output = TryQuery(handle, IOCTL_VOLUME_GET_VOLUME_DISK_EXTENTS, [], 8 + (16 * Unsafe.SizeOf<DISK_EXTENT>()), out _);
            return output is null ? null : DiskIoctlBuffers.ParseVolumeDiskExtents(output);
        }
    }

    private static WindowsVolume? TryDescribeVolume(string guidPath)
    {
        List<WindowsDiskExtent>? extents = GetExtents(guidPath.TrimEnd('\\'));
        return extents is null ? null : new WindowsVolume(guidPath, GetMountPoints(guidPath), extents);
    }

    private static List<string> GetMountPoints(string guidPath)
    {
        uint length = PathBufferLength;
        while (true)
        {
            char[] buffer = new char[length];
            fixed (char* pBuffer = buffer)
            {
                if (GetVolumePathNamesForVolumeName(guidPath, pBuffer, length, out uint needed))
                {
                    return DiskIoctlBuffers.ParseMultiString(buffer);
                }

                if (Marshal.GetLastPInvokeError() != ERROR_MORE_DATA || needed <= length)
                {
                    // A volume Windows cannot name has no mount point worth showing; its GUID path still names it.
                    return [];
                }

                length = needed;
            }
        }
    }

    private static string? GetVolumeMountPoint(string path)
    {
        char* buffer = stackalloc char[PathBufferLength];
        return GetVolumePathName(path, buffer, PathBufferLength) ? new string(buffer) : null;
    }

    private static string? GetVolumeGuidPath(string mountPoint)
    {
        char* buffer = stackalloc char[PathBufferLength];
        return GetVolumeNameForVolumeMountPoint(mountPoint, buffer, PathBufferLength) ? new string(buffer) : null;
    }
}

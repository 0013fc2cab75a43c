using System.Globalization;

namespace BlockTorrent.Devices.Linux;

/// <summary>
/// Decides whether a target may be imaged. A pure function of a device snapshot (<see cref="LinuxBlockDevices.Enumerate"/>),
/// so every decision can be checked against recorded layouts; <see cref="LinuxBlockDevice.Open"/> applies it before
/// it opens anything for writing, and the kernel's O_EXCL claim backs it up.
/// </summary>
public static class LinuxDeviceSafety
{
    /// <summary>Lists every reason not to write an image of <paramref name="imageLength"/> bytes to a whole device.</summary>
    /// <param name="device">The target device.</param>
    /// <param name="imageLength">The length of the image, or <see langword="null"/> to skip the size check.</param>
    /// <returns>The refusals, most serious first; empty when the device may be written.</returns>
    public static IReadOnlyList<DeviceRefusal> Evaluate(LinuxBlockDeviceInfo device, long? imageLength)
    {
        ArgumentNullException.ThrowIfNull(device);
        var refusals = new List<DeviceRefusal>();
        if (device.HoldsRootFilesystem)
        {
            string where = device.Partitions.FirstOrDefault(p => p.HoldsRootFilesystem)?.Path ?? device.Path;
            refusals.Add(new(DeviceRefusalReason.HoldsRootFilesystem, $"it holds the running system's root filesystem (on {where}); this is never overridden", CanForce: false));
        }

        if (device.IsReadOnly)
        {
            refusals.Add(new(DeviceRefusalReason.ReadOnly, "the device is read-only", CanForce: false));
        }

        AddTooSmall(refusals, device.Size, imageLength);
        AddMounted(refusals, device.Path, device.MountPoints);
        foreach (var partition in device.Partitions)
        {
            AddMounted(refusals, partition.Path, partition.MountPoints);
        }

        AddHeld(refusals, device.Path, device.Holders);
        foreach (var partition in device.Partitions)
        {
            AddHeld(refusals, partition.Path, partition.Holders);
        }

        return refusals;
    }

    /// <summary>Lists every reason not to write an image of <paramref name="imageLength"/> bytes to one partition.</summary>
    /// <param name="partition">The target partition.</param>
    /// <param name="imageLength">The length of the image, or <see langword="null"/> to skip the size check.</param>
    /// <returns>The refusals, most serious first; empty when the partition may be written.</returns>
    public static IReadOnlyList<DeviceRefusal> Evaluate(LinuxPartitionInfo partition, long? imageLength)
    {
        ArgumentNullException.ThrowIfNull(partition);
        var refusals = new List<DeviceRefusal>();
        if (partition.HoldsRootFilesystem)
        {
            refusals.Add(new(DeviceRefusalReason.HoldsRootFilesystem, "it holds the running system's root filesystem; this is never overridden", CanForce: false));
        }

        if (partition.IsReadOnly)
        {
            refusals.Add(new(DeviceRefusalReason.ReadOnly, "the partition is read-only", CanForce: false));
        }

        AddTooSmall(refusals, partition.Size, imageLength);
        AddMounted(refusals, partition.Path, partition.MountPoints);
        AddHeld(refusals, partition.Path, partition.Holders);
        return refusals;
    }

    /// <summary>Throws unless the refusals are empty, or <paramref name="force"/> is set and every one of them may be forced.</summary>
    /// <param name="deviceName">The target, for the message.</param>
    /// <param name="refusals">The refusals from <c>Evaluate</c>.</param>
    /// <param name="force">Whether the operator asked to override the refusals that may be overridden.</param>
    /// <exception cref="DeviceSafetyException">A refusal stands; the message lists every reason, the exception's reason is the most serious.</exception>
    public static void ThrowIfRefused(string deviceName, IReadOnlyList<DeviceRefusal> refusals, bool force)
    {
        ArgumentNullException.ThrowIfNull(deviceName);
        ArgumentNullException.ThrowIfNull(refusals);
        var standing = refusals.Where(r => !(force && r.CanForce)).ToList();
        if (standing.Count == 0)
        {
            return;
        }

        string detail = string.Join("; ", standing.Select(r => r.Detail));
        if (!force && standing.All(r => r.CanForce))
        {
            detail += " (the force option overrides this)";
        }

        throw new DeviceSafetyException(deviceName, standing[0].Reason, detail + ".");
    }

    private static void AddTooSmall(List<DeviceRefusal> refusals, long size, long? imageLength)
    {
        if (imageLength is long needed && size < needed)
        {
            refusals.Add(new(DeviceRefusalReason.TooSmall, string.Create(CultureInfo.InvariantCulture, $"it holds {size} bytes but the image needs {needed}"), CanForce: false));
        }
    }

    private static void AddMounted(List<DeviceRefusal> refusals, string path, IReadOnlyList<string> mountPoints)
    {
        if (mountPoints.Count > 0)
        {
            string where = string.Join(", ", mountPoints.Select(m => m == "[SWAP]" ? "active swap" : "mounted on " + m));
            refusals.Add(new(DeviceRefusalReason.Mounted, $"{path} is in use: {where}", CanForce: true));
        }
    }

    private static void AddHeld(List<DeviceRefusal> refusals, string path, IReadOnlyList<LinuxDeviceHolder> holders)
    {
        if (holders.Count > 0)
        {
            refusals.Add(new(DeviceRefusalReason.HeldByOtherDevice, $"{path} is held by {string.Join(", ", holders)}", CanForce: true));
        }
    }
}

using System.Globalization;

namespace BlockTorrent.Devices.Windows;

/// <summary>
/// Decides whether a disk may be imaged, from a snapshot alone, so every decision is tested without Windows.
/// The rules are those of the Linux package: never the disk of the running system; never a disk smaller than the
/// image; never a read-only or offline disk. No option overrides them. Volumes in use are handled when the
/// device opens (lock and dismount, see <see cref="WindowsBlockDeviceOptions.Force"/>).
/// </summary>
internal static class WindowsDiskSafety
{
    /// <summary>Returns why <paramref name="disk"/> must not be written with an image of <paramref name="imageLength"/> bytes, or <see langword="null"/> when it may.</summary>
    internal static DeviceSafetyException? Evaluate(WindowsDisk disk, long imageLength)
    {
        ArgumentNullException.ThrowIfNull(disk);
        string name = disk.Path;
        string what = $"disk {disk.Number} ({disk.Model}, {ByteSize.Format(disk.Length)})";

        if (disk.HoldsBootVolume)
        {
            return new DeviceSafetyException(
                name,
                DeviceRefusalReason.HoldsRootFilesystem,
                $"{what} holds the boot volume of the running Windows{Named(disk.BootVolume)}. The disk the system runs from is never imaged.");
        }

        if (disk.HoldsSystemVolume)
        {
            return new DeviceSafetyException(
                name,
                DeviceRefusalReason.HoldsRootFilesystem,
                $"{what} holds the system volume the running Windows was started from{Named(disk.SystemVolume)}. The disk the system runs from is never imaged.");
        }

        if (disk.IsOffline)
        {
            return new DeviceSafetyException(
                name,
                DeviceRefusalReason.Offline,
                string.Create(CultureInfo.InvariantCulture, $"{what} is offline. If it is the right disk, bring it online first (diskpart: select disk {disk.Number}, online disk)."));
        }

        if (disk.IsReadOnly)
        {
            return new DeviceSafetyException(
                name,
                DeviceRefusalReason.ReadOnly,
                string.Create(CultureInfo.InvariantCulture, $"{what} is read-only (write-protected media or the read-only disk attribute). If it is the right disk, clear it first (diskpart: select disk {disk.Number}, attributes disk clear readonly)."));
        }

        if (disk.Length < imageLength)
        {
            return new DeviceSafetyException(
                name,
                DeviceRefusalReason.TooSmall,
                $"{what} is smaller than the image: the image needs {ByteSize.Format(imageLength)}, the disk holds {ByteSize.Format(disk.Length)}.");
        }

        return null;
    }

    /// <summary>Throws the refusal <see cref="Evaluate"/> returns, if any.</summary>
    internal static void ThrowIfRefused(WindowsDisk disk, long imageLength)
    {
        if (Evaluate(disk, imageLength) is { } refusal)
        {
            throw refusal;
        }
    }

    private static string Named(string? volume) => volume is null ? string.Empty : $" ({volume})";
}

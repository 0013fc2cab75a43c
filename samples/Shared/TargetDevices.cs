using BlockTorrent.Devices;
using BlockTorrent.Devices.Linux;
using BlockTorrent.Devices.Windows;

namespace BlockTorrent.Samples;

/// <summary>
/// Opens an imaging target the way both samples (the CLI and the service) do: a raw device through the platform
/// package (LinuxBlockDevice for a device node, WindowsBlockDevice for <c>\\.\PhysicalDriveN</c>), an image file
/// through <see cref="FileBlockDevice"/>. The platform packages check a device is safe to image (not mounted, not
/// the running system, large enough) before anything is written. Compiled into both samples (samples/Shared).
/// </summary>
internal static class TargetDevices
{
    /// <summary>Gets a value indicating whether a path names a raw device rather than an image file.</summary>
    /// <param name="path">The path.</param>
    /// <returns><see langword="true"/> for a device path on this platform.</returns>
    public static bool IsDevicePath(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return WindowsBlockDevice.IsPhysicalDrivePath(path);
        }

        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        // What the path is decides, not where it is: a regular file is an image file even in /dev (/dev/shm), and
        // a device node (or a link to one) is a device anywhere. Only a path that does not exist yet goes by its
        // folder: in /dev it names a device that is missing, elsewhere an image file to create.
        string full = Path.GetFullPath(path);
        if (File.Exists(full))
        {
            return !LinuxBlockDevice.IsRegularFile(full);
        }

        return full.StartsWith("/dev/", StringComparison.Ordinal) && !full.StartsWith("/dev/shm/", StringComparison.Ordinal);
    }

    /// <summary>
    /// Opens a target for imaging. An image file that does not exist is created at the image's length; an existing
    /// one is kept (its pieces are rechecked and reused) and grown if it is shorter. A device must be at least as
    /// large as the image and pass the platform's safety checks.
    /// </summary>
    /// <param name="path">The path.</param>
    /// <param name="imageLength">The image length in bytes.</param>
    /// <param name="force">Overrides the refusals that can be overridden.</param>
    /// <param name="exclusive">Whether a Linux block device is claimed exclusively (O_EXCL), which force never drops.</param>
    /// <param name="logger">The device's logger.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>The device.</returns>
    /// <exception cref="DeviceSafetyException">The target is a directory, or the platform refuses the device.</exception>
    /// <exception cref="DirectoryNotFoundException">The image file's folder does not exist.</exception>
    /// <exception cref="PlatformNotSupportedException">A device path on a platform without a device package.</exception>
    public static async Task<IBlockDevice> OpenTargetAsync(string path, long imageLength, bool force, bool exclusive, Microsoft.Extensions.Logging.ILogger logger, CancellationToken cancellationToken)
    {
        if (!IsDevicePath(path))
        {
            if (Directory.Exists(path))
            {
                throw new DeviceSafetyException(path, DeviceRefusalReason.NotABlockDevice, "it is a directory; give an image file or a device.");
            }

            string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
            if (directory is not null && !Directory.Exists(directory))
            {
                throw new DirectoryNotFoundException($"the target's folder '{directory}' does not exist.");
            }

            if (!File.Exists(path))
            {
                return FileBlockDevice.Create(path, imageLength);
            }

            long existing = new FileInfo(path).Length;
            if (existing < imageLength)
            {
                // An image file grows to fit (a previous run may have been cut short before it was sized); only
                // devices have a fixed size.
                await using (var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
                {
                    stream.SetLength(imageLength);
                }
            }

            return FileBlockDevice.Open(path);
        }

        if (OperatingSystem.IsLinux())
        {
            return LinuxBlockDevice.Open(path, new LinuxBlockDeviceOptions { MinimumLength = imageLength, Force = force, Exclusive = exclusive }, logger);
        }

        if (OperatingSystem.IsWindows())
        {
            return await WindowsBlockDevice.OpenAsync(path, new WindowsBlockDeviceOptions { MinimumLength = imageLength, Force = force }, logger, cancellationToken).ConfigureAwait(false);
        }

        throw new PlatformNotSupportedException($"'{path}' is a device path, and devices are supported on Linux and Windows only.");
    }
}

using BlockTorrent.Devices;
using BlockTorrent.Devices.Linux;
using BlockTorrent.Devices.Windows;
using BlockTorrent.Samples;
using Microsoft.Extensions.Logging;

namespace BlockTorrent.Cli;

/// <summary>
/// Opens what a command line names: a raw device through the platform package (LinuxBlockDevice for a path in
/// /dev, WindowsBlockDevice for <c>\\.\PhysicalDriveN</c>), and an image file through <see cref="FileBlockDevice"/>.
/// The platform packages check a device is safe to image (not mounted, not the running system, large enough)
/// before anything is written.
/// </summary>
internal static class DeviceOpener
{
    /// <summary>Gets a value indicating whether a path names a raw device rather than an image file.</summary>
    /// <param name="path">The path.</param>
    /// <returns><see langword="true"/> for a device path on this platform.</returns>
    public static bool IsDevicePath(string path) => TargetDevices.IsDevicePath(path);

    /// <summary>Opens a source (image or device) for reading.</summary>
    /// <param name="path">The path.</param>
    /// <param name="logger">The device's logger.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>The device.</returns>
    public static async Task<IBlockDevice> OpenReadOnlyAsync(string path, ILogger logger, CancellationToken cancellationToken)
    {
        if (!IsDevicePath(path))
        {
            Inputs.RequireFile(path, "file");
            return FileBlockDevice.Open(path, new FileBlockDeviceOptions { ReadOnly = true });
        }

        if (OperatingSystem.IsLinux())
        {
            return LinuxBlockDevice.Open(path, new LinuxBlockDeviceOptions { ReadOnly = true, DirectIO = false }, logger);
        }

        if (OperatingSystem.IsWindows())
        {
            return await WindowsBlockDevice.OpenAsync(path, new WindowsBlockDeviceOptions { ReadOnly = true }, logger, cancellationToken).ConfigureAwait(false);
        }

        throw CommandException.InvalidInput($"'{path}' is a device path, and devices are supported on Linux and Windows only.");
    }

    /// <summary>
    /// Opens a target for imaging. An image file that does not exist is created at the image's length; an existing
    /// one is kept (its pieces are rechecked and reused) and grown if it is shorter. A device must be at least as
    /// large as the image and pass the platform's safety checks.
    /// </summary>
    /// <param name="path">The path.</param>
    /// <param name="imageLength">The image length in bytes.</param>
    /// <param name="force">Overrides the refusals that can be overridden (mounted partitions are still refused by the platform if it insists).</param>
    /// <param name="exclusive">Whether a Linux block device is claimed exclusively (O_EXCL); only <c>--no-exclusive</c> drops it.</param>
    /// <param name="logger">The device's logger.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    /// <returns>The device.</returns>
    public static async Task<IBlockDevice> OpenTargetAsync(string path, long imageLength, bool force, bool exclusive, ILogger logger, CancellationToken cancellationToken)
    {
        try
        {
            return await TargetDevices.OpenTargetAsync(path, imageLength, force, exclusive, logger, cancellationToken).ConfigureAwait(false);
        }
        catch (PlatformNotSupportedException e)
        {
            throw CommandException.InvalidInput(e.Message, e);
        }
    }

    /// <summary>
    /// Opens a target the way <see cref="OpenTargetAsync"/> would judge it (safety checks, size), but so that nothing
    /// can be written: for <c>deploy --dry-run</c>. Every platform's device, and an image file, comes back the same
    /// way: opened for reading, inside a <see cref="DryRunBlockDevice"/> that records what would have been written.
    /// </summary>
    public static async Task<DryRunBlockDevice> OpenForDryRunAsync(string path, long imageLength, bool force, bool exclusive, ILogger logger, CancellationToken cancellationToken)
    {
        return new DryRunBlockDevice(await OpenCheckedForReadingAsync(path, imageLength, force, exclusive, logger, cancellationToken).ConfigureAwait(false), logger);
    }

    /// <summary>Checks that a target opened for reading (verify, seed) holds at least the image's length.</summary>
    /// <param name="device">The device.</param>
    /// <param name="imageLength">The image length.</param>
    /// <param name="role">What the device is, for the message (<c>target</c>, <c>source</c>).</param>
    public static void RequireLength(IBlockDevice device, long imageLength, string role)
    {
        if (device.Length < imageLength)
        {
            throw CommandException.TargetRefused(
                $"the {role} '{device.Name}' is too small: it holds {Parsing.ByteSize.Format(device.Length)} ({device.Length} bytes) and the image needs {Parsing.ByteSize.Format(imageLength)} ({imageLength} bytes).");
        }
    }

    private static async Task<IBlockDevice> OpenCheckedForReadingAsync(string path, long imageLength, bool force, bool exclusive, ILogger logger, CancellationToken cancellationToken)
    {
        if (!IsDevicePath(path))
        {
            return await OpenReadOnlyAsync(path, logger, cancellationToken).ConfigureAwait(false);
        }

        if (OperatingSystem.IsLinux())
        {
            return LinuxBlockDevice.Open(path, new LinuxBlockDeviceOptions { DryRun = true, MinimumLength = imageLength, Force = force, Exclusive = exclusive, DirectIO = false }, logger);
        }

        if (OperatingSystem.IsWindows())
        {
            var options = new WindowsBlockDeviceOptions { MinimumLength = imageLength, Force = force };
            WindowsDiskPlan plan = await WindowsBlockDevice.PlanAsync(path, options, cancellationToken).ConfigureAwait(false);
            if (plan.Refusal is not null)
            {
                throw plan.Refusal;
            }

            return await OpenReadOnlyAsync(path, logger, cancellationToken).ConfigureAwait(false);
        }

        throw CommandException.InvalidInput($"'{path}' is a device path, and devices are supported on Linux and Windows only.");
    }
}

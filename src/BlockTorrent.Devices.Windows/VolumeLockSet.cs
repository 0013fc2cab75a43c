using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;
using static BlockTorrent.Devices.Windows.Interop.Kernel32;

namespace BlockTorrent.Devices.Windows;

/// <summary>
/// The volumes of a disk, locked and dismounted for as long as the disk is being written. Windows refuses raw
/// writes to sectors of a mounted volume, and a file system would otherwise keep caching what the image
/// replaces. The lock lasts while its handle is open; disposing closes the handles, which releases the locks and
/// lets Windows mount whatever the disk now holds.
/// </summary>
[SupportedOSPlatform("windows")]
internal sealed class VolumeLockSet : IDisposable
{
    private readonly List<SafeFileHandle> _handles;

    private VolumeLockSet(List<SafeFileHandle> handles) => _handles = handles;

    /// <summary>Locks and dismounts every volume of <paramref name="disk"/>, or refuses the disk naming the volume that could not be.</summary>
    internal static async Task<VolumeLockSet> AcquireAsync(WindowsDisk disk, WindowsBlockDeviceOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        var handles = new List<SafeFileHandle>(disk.Volumes.Count);
        bool success = false;
        try
        {
            foreach (WindowsVolume volume in disk.Volumes)
            {
                handles.Add(await LockAndDismountAsync(disk, volume, options, logger, cancellationToken).ConfigureAwait(false));
            }

            success = true;
            return new VolumeLockSet(handles);
        }
        finally
        {
            if (!success)
            {
                // Closing a locked volume's handle unlocks it: the disk is left as it was found, except dismounted
                // volumes, which Windows mounts again on their next access.
                handles.ForEach(h => h.Dispose());
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => _handles.ForEach(h => h.Dispose());

    private static async Task<SafeFileHandle> LockAndDismountAsync(WindowsDisk disk, WindowsVolume volume, WindowsBlockDeviceOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        SafeFileHandle handle = WindowsDiskProbe.Open(volume.DevicePath, GENERIC_READ | GENERIC_WRITE, 0);
        bool success = false;
        try
        {
            // Write the file system's dirty data first, so whatever a program saved is on disk before it goes away.
            if (!FlushFileBuffers(handle))
            {
                Log.VolumeFlushFailed(logger, volume.DisplayName, disk.Path, Marshal.GetLastPInvokeError());
            }

            int error = 0;
            bool locked = false;
            for (int attempt = 1; attempt <= options.VolumeLockAttempts && !locked; attempt++)
            {
                locked = Send(handle, FSCTL_LOCK_VOLUME);
                if (!locked)
                {
                    error = Marshal.GetLastPInvokeError();
                    if (attempt < options.VolumeLockAttempts)
                    {
                        Log.VolumeLockRetry(logger, volume.DisplayName, disk.Path, error, attempt, options.VolumeLockAttempts);
                        await Task.Delay(options.VolumeLockRetryDelay, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            if (!locked)
            {
                BlockDeviceIOException cause = Win32Error.Create(volume.DevicePath, "DeviceIoControl(FSCTL_LOCK_VOLUME)", offset: null, error);
                if (!options.Force)
                {
                    throw Refusal(disk, volume, "locked", cause, " A program has files open on it; close it, or set Force to dismount the volume anyway.");
                }

                Log.VolumeForceed(logger, volume.DisplayName, disk.Path, error);
            }

            // Without a lock this is a forced dismount: every open handle on the volume becomes invalid.
            if (!Send(handle, FSCTL_DISMOUNT_VOLUME))
            {
                throw Refusal(disk, volume, "dismounted", Win32Error.FromLastError(volume.DevicePath, "DeviceIoControl(FSCTL_DISMOUNT_VOLUME)"), string.Empty);
            }

            Log.VolumeDismounted(logger, volume.DisplayName, disk.Path, locked);
            success = true;
            return handle;
        }
        finally
        {
            if (!success)
            {
                handle.Dispose();
            }
        }
    }

    private static DeviceSafetyException Refusal(WindowsDisk disk, WindowsVolume volume, string failed, BlockDeviceIOException cause, string advice) =>
        new(disk.Path, DeviceRefusalReason.Busy, $"volume {volume.DisplayName} on disk {disk.Number} could not be {failed}: {cause.Message}{advice}", cause);

    private static unsafe bool Send(SafeFileHandle volume, uint code) => DeviceIoControl(volume, code, null, 0, null, 0, out _, null);
}

using Microsoft.Extensions.Logging;

namespace BlockTorrent.Devices.Windows;

/// <summary>The Windows device package's log messages. Event ids 6000-6099 belong to this package.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "Opened {Disk} ({Model}, {Length} bytes, sectors {LogicalSectorSize}/{PhysicalSectorSize}, trim {Trim}) for {Mode}")]
    internal static partial void Opened(ILogger logger, string disk, string model, long length, int logicalSectorSize, int physicalSectorSize, bool trim, string mode);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Dismounted volume {Volume} on {Disk} (locked: {Locked})")]
    internal static partial void VolumeDismounted(ILogger logger, string volume, string disk, bool locked);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Debug, Message = "Volume {Volume} on {Disk} is in use (Win32 error {Error}); lock attempt {Attempt} of {Attempts} failed, retrying")]
    internal static partial void VolumeLockRetry(ILogger logger, string volume, string disk, int error, int attempt, int attempts);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Warning, Message = "Volume {Volume} on {Disk} could not be locked (Win32 error {Error}); dismounting it anyway because Force is set: open files on it are lost")]
    internal static partial void VolumeForceed(ILogger logger, string volume, string disk, int error);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Debug, Message = "Flushing volume {Volume} on {Disk} before locking it failed (Win32 error {Error})")]
    internal static partial void VolumeFlushFailed(ILogger logger, string volume, string disk, int error);

    [LoggerMessage(EventId = 6005, Level = LogLevel.Information, Message = "Flushed {Disk} and asked Windows to re-read its partition table")]
    internal static partial void PartitionTableReread(ILogger logger, string disk);
}

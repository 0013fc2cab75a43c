using Microsoft.Extensions.Logging;

namespace BlockTorrent.Devices.Linux;

/// <summary>Log messages of the Linux device package. Event ids 7100-7199 are reserved for it.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 7100, Level = LogLevel.Information, Message = "Opened {Device} ({Kind}): {Length} bytes, logical sector {LogicalSectorSize}, physical sector {PhysicalSectorSize}, memory alignment {MemoryAlignment}, direct I/O {DirectIO}, read-only {ReadOnly}, discard {CanDiscard}")]
    public static partial void Opened(ILogger logger, string device, string kind, long length, int logicalSectorSize, int physicalSectorSize, int memoryAlignment, bool directIO, bool readOnly, bool canDiscard);

    [LoggerMessage(EventId = 7101, Level = LogLevel.Warning, Message = "{Device}: {Call} is not supported here ({Error}); falling back to {Fallback}")]
    public static partial void Fallback(ILogger logger, string device, string call, string error, string fallback);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Warning, Message = "{Device}: opened with force, overriding: {Refusals}")]
    public static partial void Forced(ILogger logger, string device, string refusals);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Information, Message = "{Device}: the kernel re-read the partition table")]
    public static partial void PartitionTableReread(ILogger logger, string device);

    [LoggerMessage(EventId = 7104, Level = LogLevel.Warning, Message = "{Device}: the kernel could not re-read the partition table ({Error}); reboot or run partprobe to see the new partitions")]
    public static partial void PartitionTableNotReread(ILogger logger, string device, string error);

    [LoggerMessage(EventId = 7106, Level = LogLevel.Debug, Message = "{Device}: holds no partition table, and the kernel keeps no partitions for it (BLKRRPART: EINVAL); nothing to re-read")]
    public static partial void NoPartitionsToReread(ILogger logger, string device);

    [LoggerMessage(EventId = 7107, Level = LogLevel.Warning, Message = "{Device}: holds a partition table, but the kernel keeps no partitions for this device (BLKRRPART: EINVAL), so its partitions will not appear; for a loop device, attach it with 'losetup --partscan'")]
    public static partial void PartitionsNotScanned(ILogger logger, string device);

    [LoggerMessage(EventId = 7108, Level = LogLevel.Debug, Message = "{Device}: could not read its first sectors to look for a partition table: {Error}")]
    public static partial void PartitionTableUnreadable(ILogger logger, string device, string error);
}

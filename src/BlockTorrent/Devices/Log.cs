using Microsoft.Extensions.Logging;

namespace BlockTorrent.Devices;

internal static partial class Log
{
    [LoggerMessage(EventId = 4200, Level = LogLevel.Information, Message = "{Report}")]
    public static partial void DryRunSummary(ILogger logger, string report);
}

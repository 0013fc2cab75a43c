using Microsoft.Extensions.Logging;

namespace BlockTorrent.Swarm;

/// <summary>The web seeds' log messages.</summary>
internal static partial class Log
{
    [LoggerMessage(353, LogLevel.Information, "Web seed {Url} fills in for {Torrent}: {Why}")]
    public static partial void WebSeedStarted(ILogger logger, Uri url, string torrent, string why);

    [LoggerMessage(351, LogLevel.Warning, "Web seed {Url} failed for piece {Piece}: {Error}; trying again in {Seconds} s")]
    public static partial void WebSeedFailed(ILogger logger, Uri url, int piece, string error, double seconds);

    [LoggerMessage(352, LogLevel.Warning, "Web seed {Url} dropped after {Failures} pieces that failed their hash")]
    public static partial void WebSeedDropped(ILogger logger, Uri url, int failures);
}

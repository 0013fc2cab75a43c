using BlockTorrent.Testing;

namespace BlockTorrent.Tests;

/// <summary>Every log message of the library has an event id of its own.</summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void EveryLogMessageHasItsOwnEventId() => LogEventIds.AssertUnique(typeof(BlockTorrentClient).Assembly, atLeast: 60);
}

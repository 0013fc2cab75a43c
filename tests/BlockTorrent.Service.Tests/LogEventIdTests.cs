using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>Every log message of the service has an event id of its own.</summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void EveryLogMessageHasItsOwnEventId() => LogEventIds.AssertUnique(typeof(BlockTorrent.Service.Log).Assembly, atLeast: 39);
}

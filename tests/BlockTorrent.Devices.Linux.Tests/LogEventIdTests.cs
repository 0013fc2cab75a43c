using BlockTorrent.Testing;

namespace BlockTorrent.Devices.Linux.Tests;

/// <summary>Every log message of the Linux devices has an event id of its own.</summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void EveryLogMessageHasItsOwnEventId() => LogEventIds.AssertUnique(typeof(BlockTorrent.Devices.Linux.Log).Assembly, atLeast: 8);
}

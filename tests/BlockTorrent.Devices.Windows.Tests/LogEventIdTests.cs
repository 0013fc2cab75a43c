using BlockTorrent.Testing;

namespace BlockTorrent.Devices.Windows.Tests;

/// <summary>Every log message of the Windows devices has an event id of its own.</summary>
public sealed class LogEventIdTests
{
    [Fact]
    public void EveryLogMessageHasItsOwnEventId() => LogEventIds.AssertUnique(typeof(BlockTorrent.Devices.Windows.Log).Assembly, atLeast: 6);
}

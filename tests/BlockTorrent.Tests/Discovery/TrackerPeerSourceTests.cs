using System.Net;
using System.Security.Cryptography;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using BlockTorrent.Tests.Writing;
using Microsoft.Extensions.Logging;

namespace BlockTorrent.Tests.Discovery;

/// <summary>One torrent announced to one tracker, and what leaving says when the tracker is gone.</summary>
public sealed class TrackerPeerSourceTests
{
    [Fact]
    public async Task AStoppedAnnounceToATrackerThatIsGoneIsOneQuietLineWithoutAStackTrace()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var tracker = new EmbeddedTracker(new EmbeddedTrackerOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        await tracker.StartAsync(ct);
        Uri announce = tracker.AnnounceUri;
        var logger = new ListLogger();
        var source = new TrackerPeerSource(
            new HttpTrackerClient(announce, null, null, logger), new InfoHash(RandomNumberGenerator.GetBytes(20)), RandomNumberGenerator.GetBytes(20), 7001, () => new TransferStats(0, 0, 0), null, logger);
        source.Start((_, _) => { });
        await Eventually.TrueAsync(() => source.Announces == 1, TimeSpan.FromSeconds(10), "the started announce", ct);
        await tracker.DisposeAsync();

        await source.DisposeAsync();

        var entry = Assert.Single(logger.Entries, e => e.Message.Contains("stopped", StringComparison.OrdinalIgnoreCase));
        Assert.True(entry.Level <= LogLevel.Information, $"logged at {entry.Level}: {entry.Message}");
        Assert.Null(entry.Exception);
        Assert.Contains(announce.ToString(), entry.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logger.Entries, e => e.Level >= LogLevel.Warning);
    }
}

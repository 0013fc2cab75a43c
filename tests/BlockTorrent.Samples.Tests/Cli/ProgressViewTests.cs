using System.Text.Json;
using BlockTorrent.Cli.Progress;
using Microsoft.Extensions.Time.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

public sealed class ProgressViewTests
{
    private static readonly TransferSnapshot HalfWay = new()
    {
        State = "downloading",
        TotalBytes = 512L << 20,
        CompletedBytes = 256L << 20,
        TotalPieces = 512,
        PiecesFromPeers = 100,
        PiecesLocal = 156,
        DownloadRate = 64 << 20,
        UploadRate = 32 << 20,
        Peers = 3,
    };

    [Fact]
    public void TheTerminalBarShowsPercentRatesPeersPieceSourcesAndEta()
    {
        string line = TerminalProgressView.Render(HalfWay, 200, "deploy");
        Assert.Contains("50.0%", line, StringComparison.Ordinal);
        Assert.Contains("DL:64 MiB/s UL:32 MiB/s", line, StringComparison.Ordinal);
        Assert.Contains("peers:3", line, StringComparison.Ordinal);
        Assert.Contains("pieces:100 net+156 local/512", line, StringComparison.Ordinal);
        Assert.Contains("ETA:4.0s", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(40)]
    [InlineData(80)]
    [InlineData(120)]
    public void TheTerminalBarNeverWrapsTheLine(int width) =>
        Assert.True(TerminalProgressView.Render(HalfWay, width, "deploy").Length < width);

    [Fact]
    public void PlainLinesHaveNoCarriageReturnsOrEscapes()
    {
        var output = new StringWriter();
        var view = new PlainProgressView(output, "deploy", TimeSpan.Zero);
        view.Update(HalfWay);
        view.Event("peer", "peer 127.0.0.1:6881 joined");
        view.Complete(HalfWay with { CompletedBytes = HalfWay.TotalBytes, State = "complete" }, "done");
        string text = output.ToString();
        Assert.DoesNotContain('\r', text.Replace(Environment.NewLine, "\n", StringComparison.Ordinal));
        Assert.DoesNotContain('\x1b', text);
        Assert.Equal(4, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void PlainLinesArePrintedAtMostOncePerInterval()
    {
        var time = new FakeTimeProvider();
        var output = new StringWriter();
        var view = new PlainProgressView(output, "deploy", TimeSpan.FromSeconds(5), time);
        view.Update(HalfWay);
        time.Advance(TimeSpan.FromSeconds(1));
        view.Update(HalfWay);
        time.Advance(TimeSpan.FromSeconds(5));
        view.Update(HalfWay);
        Assert.Equal(2, output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void JsonEventsAreOneObjectPerLineWithAnEventName()
    {
        var output = new StringWriter();
        var view = new JsonProgressView(output, "deploy", TimeSpan.Zero);
        view.Update(HalfWay);
        view.Event("resume", "resuming: 10 pieces already on the target");
        view.Complete(HalfWay with { CompletedBytes = HalfWay.TotalBytes }, "done");
        string[] lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] events = [.. lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("event").GetString()!)];
        Assert.Equal(["progress", "event", "complete"], events);
        Assert.Equal(100, JsonDocument.Parse(lines[0]).RootElement.GetProperty("piecesFromPeers").GetInt32());
    }
}

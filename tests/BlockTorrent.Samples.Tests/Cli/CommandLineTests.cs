namespace BlockTorrent.Samples.Tests.Cli;

public sealed class CommandLineTests
{
    [Fact]
    public async Task NoCommandShowsHelpAndExitsWithTheUsageCode()
    {
        CliResult result = await CliRun.RunAsync();
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Exit codes:", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnknownCommandIsAUsageErrorOnOneLine()
    {
        CliResult result = await CliRun.RunAsync("frobnicate");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("blocktorrent: usage: ", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMalformedCongestionControlNameIsAUsageErrorBeforeAnythingRuns()
    {
        CliResult result = await CliRun.RunAsync("seed", "missing.torrent", "--source", "missing.img", "--congestion-control", "cubic;rm");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("blocktorrent: usage: ", result.Error, StringComparison.Ordinal);
        Assert.Contains("--congestion-control", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HelpDocumentsEveryExitCode()
    {
        CliResult result = await CliRun.RunAsync("--help");
        Assert.Equal(0, result.ExitCode);
        foreach (int code in new[] { 0, 1, 2, 3, 4, 5, 6, 130 })
        {
            Assert.Matches($@"(?m)^\s+{code}  ", result.Output);
        }
    }

    [Theory]
    [InlineData("create")]
    [InlineData("info")]
    [InlineData("seed")]
    [InlineData("deploy")]
    [InlineData("verify")]
    [InlineData("devices")]
    [InlineData("demo")]
    public async Task EveryCommandHasHelp(string command)
    {
        CliResult result = await CliRun.RunAsync(command, "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains($"blocktorrent {command}", result.Output, StringComparison.Ordinal);
    }
}

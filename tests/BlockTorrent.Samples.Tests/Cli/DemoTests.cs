using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

public sealed class DemoTests
{
    [Fact]
    public async Task TheDemoDeploysToTwoTargetProcessesBitExactAndLeavesNothingBehind()
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "BlockTorrent.Cli.dll");
        string[] before = Directory.GetDirectories(Path.GetTempPath(), "blocktorrent-demo-*");
        ProgramResult result = await ExternalProgram.RunAsync("dotnet", [cli, "demo", "--size", "32MiB", "--targets", "2"], TimeSpan.FromMinutes(3), cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("every target is bit-exact", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("bytes from the seed:", result.StandardOutput, StringComparison.Ordinal);
        Assert.Equal(before, Directory.GetDirectories(Path.GetTempPath(), "blocktorrent-demo-*"));
    }

    [Fact]
    public async Task TheDemoRejectsZeroTargets()
    {
        CliResult result = await CliRun.RunAsync("demo", "--targets", "0");
        Assert.Equal(2, result.ExitCode);
    }

    [Fact]
    public async Task TheDemoRejectsABadSize()
    {
        CliResult result = await CliRun.RunAsync("demo", "--size", "lots");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--size", result.Error, StringComparison.Ordinal);
    }
}

using System.Text.Json;
using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

public sealed class DevicesCommandTests
{
    [Fact]
    public async Task DevicesListsTheRootDiskAsUnsafe()
    {
        Requires.Linux();
        CliResult result = await CliRun.RunAsync("devices", "--json");
        Assert.True(result.ExitCode == 0, result.ToString());
        JsonElement[] devices = [.. JsonDocument.Parse(result.Output).RootElement.EnumerateArray()];
        Assert.Contains(devices, d => !d.GetProperty("safeToImage").GetBoolean() && d.GetProperty("reasons").GetRawText().Contains("root filesystem", StringComparison.Ordinal));
    }
}

using System.Text.Json;

namespace BlockTorrent.Samples.Tests.Cli;

public sealed class RuntimeSettingsTests
{
    [Fact]
    public void TheCliBuildTellsIdleThreadPoolWorkersNotToSpin()
    {
        // The build copies the command's runtime settings beside the test assembly; a native (AOT) build compiles the
        // same settings in.
        string path = Path.Combine(AppContext.BaseDirectory, "BlockTorrent.Cli.runtimeconfig.json");
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(path));
        JsonElement properties = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");

        Assert.Equal(0, properties.GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
    }
}

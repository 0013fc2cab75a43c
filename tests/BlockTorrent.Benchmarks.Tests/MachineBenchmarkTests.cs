using System.Text.Json;
using BlockTorrent.Testing;

namespace BlockTorrent.Benchmarks.Tests;

/// <summary>The machine command (benchmarks/README.md) run as a user runs it, at a tiny size.</summary>
public sealed class MachineBenchmarkTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(10);

    private static readonly string[] Figures =
    [
        "sha1_one_core", "sha256_one_core", "sha1_all_cores", "sha256_all_cores", "dd_write_direct", "device_write_direct",
        "tcp_loopback", "writer", "pair", "libtorrent_pair", "swarm",
    ];

    [Fact]
    public async Task TheMachineCommandWritesEveryFigureAndItsLimitAsPositiveNumbers()
    {
        Requires.Linux();
        Requires.Root();
        Requires.Program("dd", "coreutils");
        Requires.Program("ip", "iproute2");
        Requires.PythonLibtorrent();
        using var directory = new TempDirectory();
        string json = directory.File("machine.json"), svg = directory.File("swarm.svg");

        // The target is a temp file in /var/tmp: on a disk, where O_DIRECT works (tmpfs refuses it).
        ProgramResult result = await RunAsync(
            ["machine", "--size", "8MiB", "--dir", "/var/tmp", "--swarm-targets", "2", "--swarm-size", "8MiB", "--json", json, "--svg", svg]);

        result.EnsureSuccess("the machine command");
        using var document = JsonDocument.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken));
        JsonElement[] figures = [.. document.RootElement.GetProperty("figures").EnumerateArray()];
        Assert.Equal(Figures.Order(), figures.Select(f => f.GetProperty("name").GetString()!).Order());
        foreach (JsonElement figure in figures)
        {
            string name = figure.GetProperty("name").GetString()!;
            Assert.True(double.IsFinite(figure.GetProperty("value").GetDouble()) && figure.GetProperty("value").GetDouble() > 0, $"{name}: {figure}");
            if (figure.TryGetProperty("limit", out JsonElement limit))
            {
                Assert.True(double.IsFinite(limit.GetDouble()) && limit.GetDouble() > 0, $"{name}'s limit: {figure}");
            }
        }

        Assert.Empty(document.RootElement.GetProperty("not_run").EnumerateArray());
        Assert.Contains("swarm", document.RootElement.GetProperty("machine").EnumerateObject().Select(p => p.Name));
        Assert.Equal(2, (await File.ReadAllTextAsync(svg, TestContext.Current.CancellationToken)).Split("<polyline").Length - 1);
    }

    [Fact]
    public async Task TheMachineCommandWritesNoDeviceTheUserHasNotConfirmed()
    {
        using var directory = new TempDirectory();
        string device = directory.File("not-a-scratch-disk");
        byte[] contents = [1, 2, 3, 4];
        await File.WriteAllBytesAsync(device, contents, TestContext.Current.CancellationToken);

        ProgramResult result = await RunAsync(["machine", "--size", "8MiB", "--device", device, "--no-swarm"]);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--yes-erase-device", result.StandardError, StringComparison.Ordinal);
        Assert.Equal(contents, await File.ReadAllBytesAsync(device, TestContext.Current.CancellationToken));
    }

    private static Task<ProgramResult> RunAsync(string[] arguments) =>
        ExternalProgram.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "BlockTorrent.Benchmarks.dll"), .. arguments], Bound, cancellationToken: TestContext.Current.CancellationToken);
}

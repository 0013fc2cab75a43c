using System.Net;
using System.Reflection;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary><c>blocktorrent fleet URL</c> against a running depot: the table once, and live until the image is deployed.</summary>
public sealed class FleetCommandTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Gets the CLI as built in its own folder (its assemblies are not those of the service's framework).</summary>
    private static string Cli => typeof(FleetCommandTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BlockTorrentCli").Value!;

    [Fact]
    public async Task TheFleetCommandFollowsTheDepotLiveUntilTheImageIsDeployedThenPrintsTheTableOnce()
    {
        Assert.True(File.Exists(Cli), $"the CLI is built at {Cli}");
        await using ServiceInstance depot = await FleetServices.StartDepotAsync(_dir, new TestImage { Length = 4 << 20, Seed = 43 }, new() { ["BlockTorrent:Depot:FleetSize"] = "2" });
        await using var live = new RunningProgram("dotnet", [Cli, "fleet", depot.FleetUrl, "--until-deployed"]);
        await Eventually.TrueAsync(() => live.Output.Contains("fleet at", StringComparison.Ordinal), Bound, () => "the first table:\n" + live.Output, TestContext.Current.CancellationToken);

        await using ServiceInstance first = await FleetServices.StartTargetAsync(_dir, depot, "target1.img");
        await using ServiceInstance second = await FleetServices.StartTargetAsync(_dir, depot, "target2.img");

        Assert.True(await live.WaitForExitAsync(Bound, TestContext.Current.CancellationToken) == 0, live.Output);
        Assert.Equal(2, live.Output.Split('\n').Count(l => l.Contains(" target-done ", StringComparison.Ordinal)));
        Assert.Contains("image-deployed disk.img: 2 of 2 targets done, 0 failed", live.Output, StringComparison.Ordinal);

        ProgramResult once = await ExternalProgram.RunAsync("dotnet", [Cli, "fleet", depot.FleetUrl + "/fleet", "--once"], Bound, cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(once.ExitCode == 0, once.StandardError);
        string[] lines = once.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("disk.img 2/2 done (deployed)", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("IMAGE", lines[1], StringComparison.Ordinal);
        string[] rows = [.. lines.Skip(2)];
        Assert.Equal(2, rows.Length);
        Assert.All(rows, row => Assert.Matches($@"^disk\.img\s+{Dns.GetHostName()} 127\.0\.0\.1\S*\s+done\s+100\.0 %", row));
    }

    [Fact]
    public async Task TheFleetCommandReadsAFleetOnTheDepotsHttpsPortOnlyWhenTrustingTheDepotsCertificate()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        await using ServiceInstance depot = await FleetServices.StartDepotAsync(_dir, new TestImage { Length = 1 << 20 }, new()
        {
            ["BlockTorrent:Depot:Manifests"] = $"127.0.0.1:{port}",
            ["BlockTorrent:Depot:Fleet"] = $"127.0.0.1:{port}",
        });
        Assert.StartsWith("https://", depot.FleetUrl, StringComparison.Ordinal);

        ProgramResult untrusted = await ExternalProgram.RunAsync("dotnet", [Cli, "fleet", depot.FleetUrl, "--once"], Bound, cancellationToken: TestContext.Current.CancellationToken);
        ProgramResult trusted = await ExternalProgram.RunAsync("dotnet", [Cli, "fleet", depot.FleetUrl, "--once", "--server-cert", TestCertificates.Shared.Certificate], Bound, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(1, untrusted.ExitCode);
        Assert.Contains($"cannot read the fleet at {depot.FleetUrl}/fleet", untrusted.StandardError, StringComparison.Ordinal);
        Assert.True(trusted.ExitCode == 0, trusted.StandardError);
        Assert.Contains("disk.img 0/0 done", trusted.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheFleetCommandSaysWhichUrlItCannotReadAndExitsWithOne()
    {
        ProgramResult result = await ExternalProgram.RunAsync("dotnet", [Cli, "fleet", "http://127.0.0.1:9/", "--once"], Bound, cancellationToken: TestContext.Current.CancellationToken);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("cannot read the fleet at http://127.0.0.1:9/fleet", result.StandardError, StringComparison.Ordinal);
    }
}

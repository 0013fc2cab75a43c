using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>Who reaches the service's HTTP paths: the depot's manifests from every machine, the status from this one.</summary>
public sealed class ServiceHttpEndPointTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    // These tests are about who reaches which path; whom a target trusts is DepotHttpsTests' subject.
    private static readonly HttpClient Http = new(new HttpClientHandler { ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator }) { Timeout = TimeSpan.FromSeconds(30) };
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ADepotWhoseStatusAndManifestsShareAPortAnswersTheStatusOnlyOnTheStatusAddress()
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await new TestImage { Length = 1 << 20 }.WriteFileAsync(Path.Combine(images, "disk.img"), TestContext.Current.CancellationToken);
        int port = FreePort();
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        settings["BlockTorrent:Status"] = $"127.0.0.1:{port}";
        settings["BlockTorrent:Depot:Manifests"] = $"0.0.0.0:{port}";
        await using ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("disk.img", out var s) && s!.State == "seeding", Bound, "the depot seeds disk.img", TestContext.Current.CancellationToken);

        // 127.0.0.2 is another address of this machine: a connection to it is not one to the status's 127.0.0.1.
        // The port serves the manifests, so it speaks HTTPS, the status included.
        Assert.Equal($"https://127.0.0.1:{port}", depot.Url);
        Assert.Equal(HttpStatusCode.OK, await GetAsync($"https://127.0.0.1:{port}/status"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync($"https://127.0.0.1:{port}/images/disk.img.torrent"));
        Assert.Equal(HttpStatusCode.NotFound, await GetAsync($"https://127.0.0.2:{port}/status"));
        Assert.Equal(HttpStatusCode.NotFound, await GetAsync($"https://127.0.0.2:{port}/"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync($"https://127.0.0.2:{port}/images/disk.img.torrent"));
    }

    [Fact]
    public async Task ADepotServesNoManifestsOnTheStatusAddressWhenTheyAreServedElsewhere()
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await new TestImage { Length = 1 << 20 }.WriteFileAsync(Path.Combine(images, "disk.img"), TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        await using ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("disk.img", out var s) && s!.State == "seeding", Bound, "the depot seeds disk.img", TestContext.Current.CancellationToken);

        Assert.NotEqual(depot.Url, depot.ManifestsUrl);
        Assert.StartsWith("https://", depot.ManifestsUrl, StringComparison.Ordinal);
        Assert.StartsWith("http://", depot.Url, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, await GetAsync($"{depot.ManifestsUrl}/images/disk.img.torrent"));
        Assert.Equal(HttpStatusCode.NotFound, await GetAsync($"{depot.ManifestsUrl}/status"));
        Assert.Equal(HttpStatusCode.NotFound, await GetAsync($"{depot.Url}/images/disk.img.torrent"));
        Assert.Equal(HttpStatusCode.OK, await GetAsync($"{depot.Url}/status"));
    }

    [Fact]
    public async Task ADepotAndATargetOnTwoMachinesConfiguredAsTheReadmeSaysDeployBitExactAndStopWithZero()
    {
        Requires.Linux();
        Requires.Root();
        string curl = Requires.Program("curl", "curl");
        LoopDevice.Require();
        var image = new TestImage { Length = 8 << 20, Seed = 21 };
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await image.WriteFileAsync(Path.Combine(images, "golden.img"), TestContext.Current.CancellationToken);
        await using LoopDevice device = await LoopDevice.CreateAsync(_dir, image.Length);

        // Two machines on one link; the target's resolver knows the depot as 'depot', and by its host name, which the
        // depot writes into the manifests it creates as its tracker's address.
        await using NetworkNamespace depotMachine = await NetworkNamespace.CreateAsync("svc-depot", TestContext.Current.CancellationToken);
        await using NetworkNamespace targetMachine = await NetworkNamespace.CreateAsync("svc-target", TestContext.Current.CancellationToken);
        await NetworkNamespace.LinkAsync(depotMachine, "svc-d", "10.231.58.1/24", targetMachine, "svc-t", "10.231.58.2/24", TestContext.Current.CancellationToken);
        string resolver = $"/etc/netns/{targetMachine.Name}";
        Directory.CreateDirectory(resolver);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(resolver, "hosts"), $"127.0.0.1 localhost\n10.231.58.1 depot {Dns.GetHostName()}\n", TestContext.Current.CancellationToken);

            // The README's commands, with the shipped appsettings.json: the depot makes its HTTPS certificate and logs
            // its fingerprint, which the target is given. Each machine's state (certificate, resume file) is kept in
            // the test's folder.
            // The fleet's token lets the target enrol at the depot from its own machine: it gets its swarm
            // certificate and the depot's signing key, and then deploys the signed TLS image.
            const string Token = "readme-fleet-token";
            await using ServiceProcess depot = ServiceProcess.Start([$"--BlockTorrent:Depot:ImageFolder={images}", $"--BlockTorrent:StateDirectory={_dir.File("depot-state")}", $"--BlockTorrent:StatusToken={Token}"], depotMachine);
            await depot.WaitForOutputAsync("Depot: HTTPS certificate", Bound);
            string fingerprint = Regex.Match(depot.Output, "HTTPS certificate .*?fingerprint (SHA256:[0-9a-f]{64})").Groups[1].Value;
            await using ServiceProcess target = ServiceProcess.Start(
                ["--BlockTorrent:Role=Target", "--BlockTorrent:Target:Image=https://depot:8580/images/golden.img.torrent", $"--BlockTorrent:Target:ServerFingerprint={fingerprint}", $"--BlockTorrent:Target:ReportToken={Token}", $"--BlockTorrent:Target:Device={device.Path}", $"--BlockTorrent:StateDirectory={_dir.File("state")}"],
                targetMachine);
            await target.WaitForOutputAsync("Target: golden.img is on", Bound);

            Assert.Equal(image.ToArray(), device.ReadBackingFile());

            // The shipped defaults: a signed TLS swarm, which the target joined with what it got by enrolling.
            var served = BlockTorrent.Manifest.TorrentManifest.Load(Path.Combine(images, "golden.img.torrent"));
            Assert.NotNull(served.SwarmAuthority);
            Assert.Single(served.Signatures);
            Assert.True(File.Exists(_dir.File("state/enrolment.json")), "the target kept its enrolment");
            Assert.Equal("200", await HttpCodeAsync(targetMachine, curl, "https://depot:8580/images/golden.img.torrent"));
            Assert.Equal("404", await HttpCodeAsync(targetMachine, curl, "https://depot:8580/status"));
            Assert.Equal("401", await HttpCodeAsync(depotMachine, curl, "https://127.0.0.1:8580/status"));
            Assert.Equal("200", await HttpCodeAsync(depotMachine, curl, "https://127.0.0.1:8580/status", "-H", $"Authorization: Bearer {Token}"));

            await target.TerminateAsync();
            await depot.TerminateAsync();
            Assert.True(await target.WaitForExitAsync(Bound) == 0, target.Output);
            Assert.True(await depot.WaitForExitAsync(Bound) == 0, depot.Output);
        }
        finally
        {
            Directory.Delete(resolver, recursive: true);
        }
    }

    private static async Task<HttpStatusCode> GetAsync(string url)
    {
        using HttpResponseMessage response = await Http.GetAsync(url, TestContext.Current.CancellationToken);
        return response.StatusCode;
    }

    /// <summary>Asks for <paramref name="url"/> from inside <paramref name="machine"/> (any certificate: who answers is the question here); returns the HTTP status code curl reports (000: no answer).</summary>
    private static async Task<string> HttpCodeAsync(NetworkNamespace machine, string curl, string url, params string[] extra) =>
        (await machine.ExecAsync(curl, ["-s", "-k", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10", .. extra, url], TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken)).StandardOutput.Trim();

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Any, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}

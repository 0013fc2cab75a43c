using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Samples;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>
/// A target service, or <c>blocktorrent deploy</c>, that has no peer at all deploys from the depot's web seed over
/// HTTPS, trusting exactly the server certificate it trusts for the manifest: the certificate the depot is given, or
/// the one it made itself.
/// </summary>
public sealed class TargetWebSeedHttpsTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private static string Cli => typeof(TargetWebSeedHttpsTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BlockTorrentCli").Value!;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ATargetWithNoPeerDeploysBitExactFromTheDepotsHttpsWebSeedPinnedAsItsManifestIs(bool depotMakesItsCertificate)
    {
        var image = new TestImage { Length = (3 << 20) + 555, Seed = 61 };
        int port = FreePort();
        await using ServiceInstance depot = await StartDepotAsync(image, port, depotMakesItsCertificate);
        string certificate = depotMakesItsCertificate ? _dir.File("depot-state/depot-https.crt") : TestCertificates.Shared.Certificate;

        await using ServiceInstance target = await StartTargetAsync($"https://127.0.0.1:{port}/images/disk.img.torrent", ("Target:ServerCertificate", certificate));
        await Eventually.TrueAsync(() => target.Board.Target!.State is "seeding" or "failed", Bound, "the target to finish", TestContext.Current.CancellationToken);

        Assert.True(target.Board.Target!.State == "seeding", (await target.GetStatusAsync()).ToString());
        Assert.Equal(image.ToArray(), await File.ReadAllBytesAsync(_dir.File("target.img"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ATargetPinnedToAnotherCertificateRefusesTheDepotsHttpsWebSeedAndWritesNothingFromIt()
    {
        var image = new TestImage { Length = 1 << 20, Seed = 62 };
        int port = FreePort();
        await using ServiceInstance depot = await StartDepotAsync(image, port, depotMakesItsCertificate: false);
        using X509Certificate2 other = TestCertificates.SelfSigned("localhost");

        // The manifest comes from a file, so only the web seed meets the pin.
        await using ServiceProcess target = ServiceProcess.Start(
        [
            .. ServiceProcess.Loopback(_dir, "Target"),
            $"--BlockTorrent:Target:Image={_dir.File("images/disk.img.torrent")}",
            $"--BlockTorrent:Target:Device={_dir.File("target.img")}",
            $"--BlockTorrent:StateDirectory={_dir.File("target-state")}",
            "--BlockTorrent:Target:ServerCertificate=",
            $"--BlockTorrent:Target:ServerFingerprint={ServerTrust.FingerprintOf(other)}",
        ]);
        await target.WaitForOutputAsync($"Web seed https://127.0.0.1:{port}/images/disk.img failed for piece", Bound);
        await target.TerminateAsync();
        await target.WaitForExitAsync(Bound);

        Assert.Contains("SSL", target.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(File.Exists(_dir.File("target.img")) ? await File.ReadAllBytesAsync(_dir.File("target.img"), TestContext.Current.CancellationToken) : [], b => b != 0);
    }

    [Fact]
    public async Task TheCliWithNoPeerDeploysBitExactFromTheDepotsHttpsWebSeedTrustingTheCertificateItWasGiven()
    {
        var image = new TestImage { Length = (2 << 20) + 333, Seed = 63 };
        int port = FreePort();
        await using ServiceInstance depot = await StartDepotAsync(image, port, depotMakesItsCertificate: false);

        ProgramResult deploy = await ExternalProgram.RunAsync(
            "dotnet",
            [Cli, "deploy", $"https://127.0.0.1:{port}/images/disk.img.torrent", "--target", _dir.File("target.img"), "--server-cert", TestCertificates.Shared.Certificate, "--listen", "127.0.0.1:0", "--timeout", "90s"],
            Bound,
            cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(deploy.ExitCode == 0, deploy.ToString());
        Assert.Equal(image.ToArray(), await File.ReadAllBytesAsync(_dir.File("target.img"), TestContext.Current.CancellationToken));
    }

    /// <summary>A port free on loopback now, for a depot whose manifests must name their own web seed URL before it starts.</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task<ServiceInstance> StartDepotAsync(TestImage image, int port, bool depotMakesItsCertificate)
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await image.WriteFileAsync(Path.Combine(images, "disk.img"), TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        settings["BlockTorrent:Depot:Https"] = "true";
        settings["BlockTorrent:Depot:Manifests"] = $"127.0.0.1:{port}";
        settings["BlockTorrent:Depot:WebSeedUrl"] = $"https://127.0.0.1:{port}/images/";

        // No tracker: the target hears of no peer, so every byte it gets comes from the web seed. Opts out of TLS
        // swarms: the web seed serves no byte of a TLS swarm's image (DepotWebSeedTests), only plain swarms'.
        settings["BlockTorrent:Depot:Tracker"] = string.Empty;
        settings["BlockTorrent:Depot:TlsSwarm"] = "false";
        settings["BlockTorrent:StateDirectory"] = _dir.File("depot-state");
        if (depotMakesItsCertificate)
        {
            settings.Remove("BlockTorrent:Depot:Certificate");
            settings.Remove("BlockTorrent:Depot:CertificateKey");
        }

        ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("disk.img", out var s) && s!.State == "seeding", Bound, "the depot seeds disk.img", TestContext.Current.CancellationToken);
        return depot;
    }

    private Task<ServiceInstance> StartTargetAsync(string image, params (string Key, string? Value)[] extra)
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = image;
        settings["BlockTorrent:Target:Device"] = _dir.File("target.img");
        settings["BlockTorrent:StateDirectory"] = _dir.File("target-state");
        foreach ((string key, string? value) in extra)
        {
            settings["BlockTorrent:" + key] = value;
        }

        return ServiceInstance.StartAsync(_dir.Path, settings);
    }
}

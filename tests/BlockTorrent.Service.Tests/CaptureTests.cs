using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary><c>blocktorrent capture</c> into a depot service, and the deploy of what it captured, on loop devices.</summary>
public sealed class CaptureTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    private static string Cli => typeof(CaptureTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BlockTorrentCli").Value!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ADiskCapturedFromAReadOnlyLoopDeviceIsServedByTheDepotAndDeploysBitExactToAnotherLoopDevice()
    {
        LoopDevice.Require();
        using var dir = new TempDirectory();
        string golden = dir.File("reimage18-golden.img");
        await new TestImage { Length = 8 << 20, Seed = 186, BlockSize = 64 << 10 }.WriteFileAsync(golden, Token);
        await using LoopDevice source = await LoopDevice.AttachAsync(golden, readOnly: true);
        await using ServiceInstance depot = await StartDepotAsync(dir);

        ProgramResult capture = await ExternalProgram.RunAsync(
            "dotnet",
            [Cli, "capture", "--source", source.Path, "--depot", depot.ManifestsUrl, "--name", "golden.img", "--piece-length", (64 << 10).ToString(CultureInfo.InvariantCulture), "--listen", "127.0.0.1:0", "--server-cert", TestCertificates.Shared.Certificate],
            Bound,
            cancellationToken: Token);

        Assert.True(capture.ExitCode == 0, $"capture exited {capture.ExitCode}: {capture.StandardOutput} {capture.StandardError}");
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("golden.img", out var s) && s!.State == "seeding", Bound, "the depot serves golden.img", Token);
        await using LoopDevice target = await LoopDevice.CreateAsync(dir, 8 << 20, name: "reimage18-target.img");
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = $"{depot.ManifestsUrl}/images/golden.img.torrent";
        settings["BlockTorrent:Target:Device"] = target.Path;
        settings["BlockTorrent:StateDirectory"] = dir.File("state");
        settings["BlockTorrent:Target:SeedAfter"] = "00:00:00";
        settings["BlockTorrent:Target:StopWhenDone"] = "true";
        await using (ServiceInstance deploying = await ServiceInstance.StartAsync(dir.Path, settings))
        {
            await deploying.Stopped.WaitAsync(Bound, Token);
        }

        Assert.Equal(await File.ReadAllBytesAsync(golden, Token), target.ReadBackingFile());
    }

    [Fact]
    public async Task ACapturedImageIsSignedByTheDepotsKeyServedInItsTlsSwarmAndATargetTrustingOnlyThatKeyDeploysItBitExact()
    {
        using var dir = new TempDirectory();
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await File.WriteAllTextAsync(dir.File("depot-signing.pem"), key.ExportPkcs8PrivateKeyPem(), Token);
        await File.WriteAllTextAsync(dir.File("depot-public.pem"), key.ExportSubjectPublicKeyInfoPem(), Token);
        string golden = dir.File("golden.img");
        await new TestImage { Length = (4 << 20) + 4096, Seed = 187, BlockSize = 64 << 10 }.WriteFileAsync(golden, Token);
        await using ServiceInstance depot = await StartDepotAsync(dir, ("Depot:SigningKey", dir.File("depot-signing.pem")));

        ProgramResult capture = await ExternalProgram.RunAsync(
            "dotnet",
            [Cli, "capture", "--source", golden, "--depot", depot.ManifestsUrl, "--name", "golden.img", "--piece-length", (64 << 10).ToString(CultureInfo.InvariantCulture), "--listen", "127.0.0.1:0", "--server-cert", TestCertificates.Shared.Certificate],
            Bound,
            cancellationToken: Token);

        Assert.True(capture.ExitCode == 0, $"capture exited {capture.ExitCode}: {capture.StandardOutput} {capture.StandardError}");
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("golden.img", out var s) && s!.State == "seeding", Bound, "the depot serves golden.img", Token);
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        TorrentManifest served = TorrentManifest.Parse(await http.GetByteArrayAsync($"{depot.ManifestsUrl}/images/golden.img.torrent", Token));
        ManifestTrust trust = ManifestTrust.FromPem(key.ExportSubjectPublicKeyInfoPem());
        Assert.Equal(trust.Fingerprints.Single(), trust.Verify(served).Fingerprint);
        Assert.NotNull(served.SwarmAuthority);

        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = $"{depot.ManifestsUrl}/images/golden.img.torrent";
        settings["BlockTorrent:Target:Trust"] = dir.File("depot-public.pem");
        settings["BlockTorrent:Target:Device"] = dir.File("target.img");
        settings["BlockTorrent:StateDirectory"] = dir.File("state");
        settings["BlockTorrent:Target:SeedAfter"] = "00:00:00";
        settings["BlockTorrent:Target:StopWhenDone"] = "true";
        await using (ServiceInstance deploying = await ServiceInstance.StartAsync(dir.Path, settings))
        {
            await deploying.Stopped.WaitAsync(Bound, Token);
            Assert.True(deploying.Board.ExitCode == 0, $"the target failed: {deploying.Board.Target!.State}");
        }

        Assert.Equal(await File.ReadAllBytesAsync(golden, Token), await File.ReadAllBytesAsync(dir.File("target.img"), Token));
    }

    [Fact]
    public async Task ASourceMountedReadWriteIsRefusedBeforeAnythingIsRead()
    {
        LoopDevice.Require();
        using var dir = new TempDirectory();
        await using LoopDevice source = await LoopDevice.CreateAsync(dir, 16 << 20, name: "reimage18-mounted.img");
        await source.MountExt4Async(dir.File("reimage18-mnt"));

        ProgramResult capture = await ExternalProgram.RunAsync(
            "dotnet",
            [Cli, "capture", "--source", source.Path, "--depot", "https://127.0.0.1:9", "--listen", "127.0.0.1:0"],
            Bound,
            cancellationToken: Token);

        Assert.Equal(4, capture.ExitCode);
        Assert.Contains("mounted read-write", capture.StandardError, StringComparison.Ordinal);
        Assert.Contains("reimage18-mnt", capture.StandardError, StringComparison.Ordinal);
    }

    private static Task<ServiceInstance> StartDepotAsync(TempDirectory dir, params (string Key, string Value)[] extra)
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = Directory.CreateDirectory(dir.File("images")).FullName;
        settings["BlockTorrent:Depot:PieceSize"] = (64 * 1024).ToString(CultureInfo.InvariantCulture);
        foreach ((string key, string value) in extra)
        {
            settings["BlockTorrent:" + key] = value;
        }

        return ServiceInstance.StartAsync(dir.Path, settings);
    }
}

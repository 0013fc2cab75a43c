using System.Reflection;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>
/// The depot serves its manifests over HTTPS, and a target (the service, or <c>blocktorrent deploy</c> from a URL)
/// takes a manifest only from the server its pins name: a depot with another certificate is refused before anything
/// is written, with an error naming the certificate presented and the one expected.
/// </summary>
public sealed partial class DepotHttpsTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ADepotMakesItsOwnCertificateOnceKeepsItsKeyPrivateAndServesTheSameOneAfterARestart()
    {
        string images = await WriteImageAsync(new TestImage { Length = 1 << 20 });
        string first;
        await using (ServiceProcess depot = StartDepotWithItsOwnCertificate(images))
        {
            await depot.WaitForOutputAsync("Depot: HTTPS certificate", Bound);
            first = depot.Output;
            await depot.TerminateAsync();
            Assert.True(await depot.WaitForExitAsync(Bound) == 0, depot.Output);
        }

        await using ServiceProcess restarted = StartDepotWithItsOwnCertificate(images);
        await restarted.WaitForOutputAsync("Depot: HTTPS certificate", Bound);

        string certificate = _dir.File("state/depot-https.crt");
        string fingerprint = ServerTrust.FingerprintOf(X509Certificate2.CreateFromPemFile(certificate, _dir.File("state/depot-https.key")));
        Assert.Contains($"{certificate} (made), fingerprint {fingerprint}", first, StringComparison.Ordinal);
        Assert.Contains($"{certificate} (read), fingerprint {fingerprint}", restarted.Output, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_dir.File("state/depot-https.key")));
        }

        Assert.Matches(ManifestsUrl(), restarted.Output);
    }

    [Fact]
    public async Task TheCliDeploysBitExactOverHttpsFromADepotProcessPinnedToTheCertificateTheDepotMade()
    {
        var image = new TestImage { Length = 4 << 20, Seed = 31 };
        string images = await WriteImageAsync(image);
        await using ServiceProcess depot = StartDepotWithItsOwnCertificate(images);
        string url = await ManifestUrlAsync(depot);
        string infoHash = TorrentManifest.Load(Path.Combine(images, "disk.img.torrent")).InfoHashV1!.Value.ToHex();

        // The CLI does not enrol: it presents a certificate issued with the depot's swarm authority (blocktorrent tls issue).
        string peer = DepotAuthority.Write(_dir.File("state"), _dir.Path, "peer");
        ProgramResult deploy = await CliAsync("deploy", $"{url}#btih={infoHash}", "--target", _dir.File("target.img"), "--server-cert", _dir.File("state/depot-https.crt"), "--tls-cert", peer, "--listen", "127.0.0.1:0", "--timeout", "90s");

        Assert.True(deploy.ExitCode == 0, deploy + "\n" + depot.Output);
        Assert.Equal(image.ToArray(), await File.ReadAllBytesAsync(_dir.File("target.img"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task TheCliRefusesADepotWhoseCertificateIsNotThePinnedOneWithExitEightNamingBothAndCreatesNoTarget()
    {
        string images = await WriteImageAsync(new TestImage { Length = 1 << 20 });
        await using ServiceProcess depot = StartDepotWithItsOwnCertificate(images);
        string url = await ManifestUrlAsync(depot);
        using X509Certificate2 other = TestCertificates.SelfSigned("localhost");
        string pinned = ServerTrust.FingerprintOf(other);

        ProgramResult deploy = await CliAsync("deploy", url, "--target", _dir.File("target.img"), "--server-fingerprint", pinned, "--listen", "127.0.0.1:0");

        string presented = ServerTrust.FingerprintOf(X509Certificate2.CreateFromPem(File.ReadAllText(_dir.File("state/depot-https.crt"))));
        Assert.True(deploy.ExitCode == 8, deploy.ToString());
        Assert.Contains($"presented CN=", deploy.StandardError, StringComparison.Ordinal);
        Assert.Contains(presented, deploy.StandardError, StringComparison.Ordinal);
        Assert.Contains($"does not match the pinned fingerprint {pinned}", deploy.StandardError, StringComparison.Ordinal);
        Assert.Contains("Nothing was written", deploy.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task TheCliRefusesADepotsSelfSignedCertificateWhenNothingIsPinnedSayingThisMachineDoesNotTrustIt()
    {
        string images = await WriteImageAsync(new TestImage { Length = 1 << 20 });
        await using ServiceProcess depot = StartDepotWithItsOwnCertificate(images);
        string url = await ManifestUrlAsync(depot);

        ProgramResult deploy = await CliAsync("deploy", url, "--target", _dir.File("target.img"), "--listen", "127.0.0.1:0");

        Assert.True(deploy.ExitCode == 8, deploy.ToString());
        Assert.Contains("is not trusted by this machine", deploy.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task ATargetServiceRefusesADepotWhoseCertificateIsNotItsPinAndNeverCreatesItsDevice()
    {
        string images = await WriteImageAsync(new TestImage { Length = 1 << 20 });
        await using ServiceInstance depot = await StartDepotAsync(images);
        using X509Certificate2 other = TestCertificates.SelfSigned("localhost");
        (string otherFile, _) = TestCertificates.Write(other, _dir.Path, "other");

        await using ServiceProcess target = StartTarget($"{depot.ManifestsUrl}/images/disk.img.torrent", $"--BlockTorrent:Target:ServerCertificate={otherFile}");

        Assert.True(await target.WaitForExitAsync(Bound) == 1, target.Output);
        Assert.Contains($"it presented CN=localhost ({ServerTrust.FingerprintOf(X509Certificate2.CreateFromPem(File.ReadAllText(TestCertificates.Shared.Certificate)))}", target.Output, StringComparison.Ordinal);
        Assert.Contains($"the certificates in {otherFile}", target.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("retrying", target.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task ATargetServiceRefusesAManifestServedOverHttpsThatIsNotTheImageItsUrlPins()
    {
        string images = await WriteImageAsync(new TestImage { Length = 1 << 20 });
        await using ServiceInstance depot = await StartDepotAsync(images);
        string pinned = new('2', 40);

        await using ServiceProcess target = StartTarget($"{depot.ManifestsUrl}/images/disk.img.torrent#btih={pinned}");

        Assert.True(await target.WaitForExitAsync(Bound) == 1, target.Output);
        Assert.Contains($"not the pinned image {pinned}", target.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task ATargetTrustingACaTakesTheManifestFromADepotWhoseCertificateTheCaIssuedForItsName()
    {
        using X509Certificate2 authority = TestCertificates.Authority("Fleet CA");
        using X509Certificate2 issued = TestCertificates.IssuedBy(authority, "localhost");

        TorrentManifest manifest = await FetchTrustingAsync(authority, issued);

        Assert.Equal("disk.img", manifest.Name);
    }

    [Fact]
    public async Task ATargetTrustingACaRefusesADepotWhoseCertificateTheCaIssuedForAnotherName()
    {
        using X509Certificate2 authority = TestCertificates.Authority("Fleet CA");
        using X509Certificate2 issued = TestCertificates.IssuedBy(authority, "elsewhere.example");

        ServerNotTrustedException e = await Assert.ThrowsAsync<ServerNotTrustedException>(() => FetchTrustingAsync(authority, issued));

        Assert.Contains("CN=elsewhere.example", e.Message, StringComparison.Ordinal);
        Assert.Contains("issued by a pinned CA but not for the host name of the URL", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ATargetTrustingACaRefusesADepotWithASelfSignedCertificate()
    {
        using X509Certificate2 authority = TestCertificates.Authority("Fleet CA");

        ServerNotTrustedException e = await Assert.ThrowsAsync<ServerNotTrustedException>(() => FetchTrustingAsync(authority, depotCertificate: null));

        Assert.Contains("is not one of the pinned certificates and its chain does not lead to one", e.Message, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"Depot: manifests at (https://127\.0\.0\.1:\d+)/images/NAME\.torrent")]
    private static partial Regex ManifestsUrl();

    private static Task<ProgramResult> CliAsync(params string[] args)
    {
        string cli = typeof(DepotHttpsTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "BlockTorrentCli").Value!;
        return ExternalProgram.RunAsync("dotnet", [cli, .. args], Bound, cancellationToken: TestContext.Current.CancellationToken);
    }

    /// <summary>Waits until the depot process serves disk.img and returns its manifest's https URL.</summary>
    private static async Task<string> ManifestUrlAsync(ServiceProcess depot)
    {
        await depot.WaitForOutputAsync("Depot: seeding disk.img", Bound);
        await depot.WaitForOutputAsync("Depot: manifests at", Bound);
        return ManifestsUrl().Match(depot.Output).Groups[1].Value + "/images/disk.img.torrent";
    }

    /// <summary>Fetches disk.img's manifest, as a target trusting only <paramref name="authority"/> does, from a depot serving with <paramref name="depotCertificate"/> (the tests' shared self-signed one when <see langword="null"/>).</summary>
    private async Task<TorrentManifest> FetchTrustingAsync(X509Certificate2 authority, X509Certificate2? depotCertificate)
    {
        (string ca, _) = TestCertificates.Write(authority, _dir.Path, "ca");
        (string? certificate, string? key) = depotCertificate is null ? (null, null) : TestCertificates.Write(depotCertificate, _dir.Path, "depot");
        string images = await WriteImageAsync(new TestImage { Length = 1 << 20 });
        await using ServiceInstance depot = await StartDepotAsync(images, certificate, key);
        using var download = new ManifestDownload(ServerTrust.Create(ca, null), TimeSpan.FromSeconds(30));
        return await download.GetAsync(new Uri($"{depot.ManifestsUrl}/images/disk.img.torrent"), TestContext.Current.CancellationToken);
    }

    private async Task<string> WriteImageAsync(TestImage image)
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await image.WriteFileAsync(Path.Combine(images, "disk.img"), TestContext.Current.CancellationToken);
        return images;
    }

    /// <summary>A depot process without a configured certificate: it makes its own in the test's state folder.</summary>
    private ServiceProcess StartDepotWithItsOwnCertificate(string images) =>
        ServiceProcess.Start([.. ServiceProcess.Loopback(_dir, "Depot"), $"--BlockTorrent:Depot:ImageFolder={images}", "--BlockTorrent:Depot:Certificate=", "--BlockTorrent:Depot:CertificateKey=", $"--BlockTorrent:StateDirectory={_dir.File("state")}"]);

    private async Task<ServiceInstance> StartDepotAsync(string images, string? certificate = null, string? key = null)
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        if (certificate is not null)
        {
            settings["BlockTorrent:Depot:Certificate"] = certificate;
            settings["BlockTorrent:Depot:CertificateKey"] = key;
        }

        ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("disk.img", out var s) && s!.State == "seeding", Bound, "the depot seeds disk.img", TestContext.Current.CancellationToken);
        return depot;
    }

    private ServiceProcess StartTarget(string image, params string[] settings) =>
        ServiceProcess.Start([.. ServiceProcess.Loopback(_dir, "Target"), $"--BlockTorrent:Target:Image={image}", $"--BlockTorrent:Target:Device={_dir.File("target.img")}", $"--BlockTorrent:StateDirectory={_dir.File("state")}", .. settings]);
}

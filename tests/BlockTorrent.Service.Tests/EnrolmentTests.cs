using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;
using BlockTorrent.Service.Enrolment;
using BlockTorrent.Service.Target;
using BlockTorrent.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace BlockTorrent.Service.Tests;

/// <summary>
/// Enrolment (<c>POST /enroll</c>): a target given only its depot's URL, the depot's certificate fingerprint and the
/// fleet token gets its swarm certificate and the depot's signing key from the depot, keeps them, and deploys a
/// signed TLS image with nothing else handed around; without the token nothing is issued.
/// </summary>
public sealed class EnrolmentTests : IDisposable
{
    private const string Token = "fleet-s3cret";
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ATargetGivenOnlyTheDepotsUrlFingerprintAndTokenEnrolsAndDeploysASignedTlsImageBitExact()
    {
        var image = new TestImage { Length = 3 << 20, Seed = 61 };
        await using ServiceInstance depot = await StartDepotAsync("a", image);

        await using ServiceInstance target = await StartTargetAsync(depot, "target.img", "state");
        await target.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal("complete", target.Board.Target!.State);
        Assert.Equal(image.ToArray(), await File.ReadAllBytesAsync(_dir.File("target.img"), TestContext.Current.CancellationToken));
        TorrentManifest served = TorrentManifest.Load(_dir.File("a/images/disk.img.torrent"));
        using X509Certificate2 authority = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(_dir.File("a/state/swarm-ca.pem"), TestContext.Current.CancellationToken));
        Assert.Equal(authority.RawData, served.SwarmAuthority!.RawData);
        ManifestSignature signature = Assert.Single(served.Signatures);
        EnrolmentAnswer kept = EnrolmentAnswer.Parse(await File.ReadAllBytesAsync(_dir.File("state/" + TargetEnrolment.FileName), TestContext.Current.CancellationToken));
        Assert.Equal(signature.Fingerprint, kept.Signer);
        Assert.DoesNotContain("PRIVATE KEY", kept.Trust + kept.Certificate + kept.Authority, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_dir.File("state/" + TargetEnrolment.KeyFileName)));
        }

        using X509Certificate2 issued = X509Certificate2.CreateFromPem(kept.Certificate!);
        Assert.True(SwarmCertificates.Admits(authority, "disk.img", issued, null, out string? reason), reason);
    }

    [Fact]
    public async Task ARestartedTargetReusesItsEnrolmentAndDeploysAgain()
    {
        var image = new TestImage { Length = 1 << 20, Seed = 62 };
        await using ServiceInstance depot = await StartDepotAsync("a", image);
        await using (ServiceInstance first = await StartTargetAsync(depot, "first.img", "state"))
        {
            await first.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);
            Assert.Equal("complete", first.Board.Target!.State);
        }

        byte[] key = await File.ReadAllBytesAsync(_dir.File("state/" + TargetEnrolment.KeyFileName), TestContext.Current.CancellationToken);
        byte[] answer = await File.ReadAllBytesAsync(_dir.File("state/" + TargetEnrolment.FileName), TestContext.Current.CancellationToken);

        await using ServiceInstance second = await StartTargetAsync(depot, "second.img", "state", token: null);
        await second.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);

        // Without the token a new enrolment would have been refused: the kept one was used, unchanged.
        Assert.Equal("complete", second.Board.Target!.State);
        Assert.Equal(image.ToArray(), await File.ReadAllBytesAsync(_dir.File("second.img"), TestContext.Current.CancellationToken));
        Assert.Equal(key, await File.ReadAllBytesAsync(_dir.File("state/" + TargetEnrolment.KeyFileName), TestContext.Current.CancellationToken));
        Assert.Equal(answer, await File.ReadAllBytesAsync(_dir.File("state/" + TargetEnrolment.FileName), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ATargetEnrolledWithOneDepotRefusesAnotherDepotsManifestAndNeverCreatesItsDevice()
    {
        await using (ServiceInstance depotA = await StartDepotAsync("a", new TestImage { Length = 1 << 20, Seed = 63 }))
        await using (ServiceInstance enrolled = await StartTargetAsync(depotA, "first.img", "state"))
        {
            await enrolled.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);
            Assert.Equal("complete", enrolled.Board.Target!.State);
        }

        // Depot B holds the same HTTPS certificate (the one the target pins) but its own signing key.
        await using ServiceInstance depotB = await StartDepotAsync("b", new TestImage { Length = 1 << 20, Seed = 64 });
        await using ServiceInstance target = await StartTargetAsync(depotB, "second.img", "state");
        await target.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal("failed", target.Board.Target!.State);
        Assert.Contains("which is not trusted", Error(target), StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("second.img")));
    }

    [Fact]
    public async Task ATargetRenewsACertificateWithAThirdOfItsLifeLeftAndKeepsTheAnchorsItEnrolled()
    {
        var image = new TestImage { Length = 1 << 20, Seed = 68 };
        await using ServiceInstance depot = await StartDepotAsync("a", image);
        await using (ServiceInstance first = await StartTargetAsync(depot, "first.img", "state"))
        {
            await first.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);
            Assert.Equal("complete", first.Board.Target!.State);
        }

        // The kept certificate, issued again for the same key so that ten minutes of its seventy are left.
        string answerPath = _dir.File("state/" + TargetEnrolment.FileName);
        EnrolmentAnswer kept = EnrolmentAnswer.Parse(await File.ReadAllBytesAsync(answerPath, TestContext.Current.CancellationToken));
        using (X509Certificate2 authority = X509Certificate2.CreateFromPemFile(_dir.File("a/state/swarm-ca.pem"), _dir.File("a/state/swarm-ca.key.pem")))
        using (X509Certificate2 enrolled = X509Certificate2.CreateFromPem(kept.Certificate!))
        using (X509Certificate2 ageing = SwarmCertificates.Issue(authority, enrolled.PublicKey, SwarmCertificates.AnyTorrent, TimeSpan.FromMinutes(10)))
        {
            kept.Certificate = ageing.ExportCertificatePem();
        }

        await File.WriteAllTextAsync(answerPath, System.Text.Json.JsonSerializer.Serialize(kept, EnrolmentJson.Default.EnrolmentAnswer), TestContext.Current.CancellationToken);

        await using ServiceInstance second = await StartTargetAsync(depot, "second.img", "state");
        await second.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal("complete", second.Board.Target!.State);
        EnrolmentAnswer renewed = EnrolmentAnswer.Parse(await File.ReadAllBytesAsync(answerPath, TestContext.Current.CancellationToken));
        using X509Certificate2 certificate = X509Certificate2.CreateFromPem(renewed.Certificate!);
        Assert.True(certificate.NotAfter.ToUniversalTime() > DateTime.UtcNow.AddDays(20), $"renewed until {certificate.NotAfter:u}");
        Assert.Equal(kept.Trust, renewed.Trust);
        Assert.Equal(kept.Signer, renewed.Signer);
    }

    [Fact]
    public async Task ATargetEnrolsAgainWhenAManifestSignedByItsDepotNamesANewSwarmAuthority()
    {
        var image = new TestImage { Length = 1 << 20, Seed = 69 };
        string oldAuthority;
        await using (ServiceInstance depot = await StartDepotAsync("a", image))
        await using (ServiceInstance first = await StartTargetAsync(depot, "first.img", "state"))
        {
            await first.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);
            Assert.Equal("complete", first.Board.Target!.State);
            oldAuthority = await File.ReadAllTextAsync(_dir.File("a/state/swarm-ca.pem"), TestContext.Current.CancellationToken);
        }

        // The depot gets a new authority (its signing key stays): it makes its manifest again for it.
        File.Delete(_dir.File("a/state/swarm-ca.pem"));
        File.Delete(_dir.File("a/state/swarm-ca.key.pem"));
        await using ServiceInstance restarted = await StartDepotAsync("a", image);
        Assert.NotEqual(oldAuthority, await File.ReadAllTextAsync(_dir.File("a/state/swarm-ca.pem"), TestContext.Current.CancellationToken));

        await using ServiceInstance second = await StartTargetAsync(restarted, "second.img", "state");
        await second.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal("complete", second.Board.Target!.State);
        Assert.Equal(image.ToArray(), await File.ReadAllBytesAsync(_dir.File("second.img"), TestContext.Current.CancellationToken));
        EnrolmentAnswer renewed = EnrolmentAnswer.Parse(await File.ReadAllBytesAsync(_dir.File("state/" + TargetEnrolment.FileName), TestContext.Current.CancellationToken));
        Assert.Equal(await File.ReadAllTextAsync(_dir.File("a/state/swarm-ca.pem"), TestContext.Current.CancellationToken), renewed.Authority + "\n");
    }

    [Fact]
    public async Task ATargetOfADepotThatSignsNothingFailsUnlessItOptsOutOfSignaturesExplicitly()
    {
        var image = new TestImage { Length = 1 << 20, Seed = 70 };
        await using ServiceInstance depot = await StartDepotAsync("a", image, new() { ["BlockTorrent:Depot:Sign"] = "false" });

        await using (ServiceInstance requiring = await StartTargetAsync(depot, "first.img", "state"))
        {
            await requiring.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);
            Assert.Equal("failed", requiring.Board.Target!.State);
            Assert.Contains("signs no manifests", Error(requiring), StringComparison.Ordinal);
            Assert.Contains("RequireSignature", Error(requiring), StringComparison.Ordinal);
            Assert.False(File.Exists(_dir.File("first.img")));
        }

        await using ServiceInstance optedOut = await StartTargetAsync(depot, "second.img", "state", more: new() { ["BlockTorrent:Target:RequireSignature"] = "false" });
        await optedOut.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal("complete", optedOut.Board.Target!.State);
        Assert.Equal(image.ToArray(), await File.ReadAllBytesAsync(_dir.File("second.img"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task AnHttpsServerThatOffersNoEnrolmentFailsATargetUnlessItOptsOutOfSignaturesExplicitly()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        var image = new TestImage { Length = 1 << 20, Seed = 71 };

        // The depot's swarm is plain and its manifest unsigned; another https server (no depot) hands the manifest out.
        await using ServiceInstance depot = await StartDepotAsync("a", image, new() { ["BlockTorrent:Depot:Sign"] = "false", ["BlockTorrent:Depot:TlsSwarm"] = "false" });
        using X509Certificate2 pem = X509Certificate2.CreateFromPemFile(TestCertificates.Shared.Certificate, TestCertificates.Shared.Key);
        using X509Certificate2 serving = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), password: null);
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listener => listener.UseHttps(serving)));
        await using WebApplication files = builder.Build();
        files.MapGet("/images/disk.img.torrent", () => Results.File(_dir.File("a/images/disk.img.torrent"), "application/x-bittorrent"));
        await files.StartAsync(ct);
        string url = files.Urls.Single() + "/images/disk.img.torrent";
        var plain = new Dictionary<string, string?> { ["BlockTorrent:Target:Image"] = url, ["BlockTorrent:Target:Peers:0"] = depot.Board.PeerEndPoint };

        await using (ServiceInstance requiring = await StartTargetAsync(depot, "first.img", "state1", more: plain))
        {
            await requiring.Stopped.WaitAsync(Bound, ct);
            Assert.Equal("failed", requiring.Board.Target!.State);
            Assert.Contains("offers no enrolment", Error(requiring), StringComparison.Ordinal);
            Assert.False(File.Exists(_dir.File("first.img")));
        }

        plain["BlockTorrent:Target:RequireSignature"] = "false";
        await using ServiceInstance optedOut = await StartTargetAsync(depot, "second.img", "state2", more: plain);
        await optedOut.Stopped.WaitAsync(Bound, ct);

        Assert.Equal("complete", optedOut.Board.Target!.State);
        Assert.Equal(image.ToArray(), await File.ReadAllBytesAsync(_dir.File("second.img"), ct));
        Assert.False(File.Exists(_dir.File("state2/" + TargetEnrolment.FileName)));
    }

    [Fact]
    public async Task ATargetWithTheWrongTokenIsRefusedGetsNoCertificateAndNeverCreatesItsDevice()
    {
        await using ServiceInstance depot = await StartDepotAsync("a", new TestImage { Length = 1 << 20, Seed = 65 });

        await using ServiceInstance target = await StartTargetAsync(depot, "target.img", "state", token: "wrong");
        await target.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal("failed", target.Board.Target!.State);
        Assert.Contains("refused to enrol", Error(target), StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
        Assert.False(File.Exists(_dir.File("state/" + TargetEnrolment.KeyFileName)));
        Assert.False(File.Exists(_dir.File("state/" + TargetEnrolment.FileName)));
    }

    [Fact]
    public async Task WithoutATokenTheDepotEnrolsItsOwnMachineOnlyAndNoCaseOfThePathSlipsPastTheCheck()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        IPAddress lan = Requires.LanAddress();
        int port = FreePort();
        await using ServiceInstance depot = await StartDepotAsync("a", new TestImage { Length = 1 << 20, Seed = 66 }, new()
        {
            ["BlockTorrent:StatusToken"] = null,
            ["BlockTorrent:Depot:Manifests"] = $"0.0.0.0:{port}",
        });

        (HttpStatusCode fromLan, string lanBody) = await EnrolAsync($"https://{lan}:{port}/enroll", Csr(), token: null, ct);
        (HttpStatusCode upperCase, string upperBody) = await EnrolAsync($"https://{lan}:{port}/ENROLL", Csr(), token: null, ct);
        (HttpStatusCode fromHere, string hereBody) = await EnrolAsync($"https://127.0.0.1:{port}/enroll", Csr(), token: null, ct);

        Assert.Equal(HttpStatusCode.Unauthorized, fromLan);
        Assert.Equal(HttpStatusCode.Unauthorized, upperCase);
        Assert.DoesNotContain("CERTIFICATE", lanBody + upperBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, fromHere);
        Assert.Contains("BEGIN CERTIFICATE", EnrolmentAnswer.Parse(System.Text.Encoding.UTF8.GetBytes(hereBody)).Certificate, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADepotRefusesWhatIsNotASignedP256CertificateRequestWith400()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using ServiceInstance depot = await StartDepotAsync("a", new TestImage { Length = 1 << 20, Seed = 67 });
        byte[] tampered = Csr();
        tampered[^1] ^= 0x01;
        using RSA rsa = RSA.Create(2048);
        byte[] rsaRequest = new CertificateRequest("CN=rsa", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSigningRequest();

        (HttpStatusCode garbage, string garbageBody) = await EnrolAsync(depot.ManifestsUrl + "/enroll", "not a request"u8.ToArray(), Token, ct);
        (HttpStatusCode forged, _) = await EnrolAsync(depot.ManifestsUrl + "/enroll", tampered, Token, ct);
        (HttpStatusCode wrongKey, string wrongKeyBody) = await EnrolAsync(depot.ManifestsUrl + "/enroll", rsaRequest, Token, ct);
        (HttpStatusCode noToken, _) = await EnrolAsync(depot.ManifestsUrl + "/enroll", Csr(), token: null, ct);

        Assert.Equal(HttpStatusCode.BadRequest, garbage);
        Assert.Contains("PKCS#10", garbageBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, forged);
        Assert.Equal(HttpStatusCode.BadRequest, wrongKey);
        Assert.Contains("P-256", wrongKeyBody, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, noToken);
    }

    private static byte[] Csr()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest("CN=test", key, HashAlgorithmName.SHA256).CreateSigningRequest();
    }

    private static async Task<(HttpStatusCode Status, string Body)> EnrolAsync(string url, byte[] body, string? token, CancellationToken ct)
    {
        ServerTrust trust = ServerTrust.Create(TestCertificates.Shared.Certificate, null);
        using var http = new HttpClient(trust.CreateHandler());
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/pkcs10");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using HttpResponseMessage response = await http.SendAsync(request, ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(ct));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string Error(ServiceInstance target) =>
        System.Text.Json.JsonDocument.Parse(target.Board.ToJson()).RootElement.GetProperty("target").TryGetProperty("error", out var error) ? error.GetString() ?? string.Empty : target.Board.Target!.State;

    /// <summary>Starts a depot in <paramref name="name"/> (its images and state folder there) that signs and makes TLS swarms, with the fleet token.</summary>
    private async Task<ServiceInstance> StartDepotAsync(string name, TestImage image, Dictionary<string, string?>? more = null)
    {
        string images = Directory.CreateDirectory(_dir.File(name + "/images")).FullName;
        await image.WriteFileAsync(Path.Combine(images, "disk.img"), TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        settings["BlockTorrent:Depot:PieceSize"] = "65536";
        settings["BlockTorrent:Depot:Sign"] = "true";
        settings["BlockTorrent:Depot:TlsSwarm"] = "true";
        settings["BlockTorrent:StateDirectory"] = _dir.File(name + "/state");
        settings["BlockTorrent:StatusToken"] = Token;
        foreach ((string key, string? value) in more ?? [])
        {
            settings[key] = value;
        }

        ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("disk.img", out var s) && s!.State == "seeding", Bound, "the depot seeds disk.img", TestContext.Current.CancellationToken);
        return depot;
    }

    /// <summary>Starts a target that knows only the depot's URL, its HTTPS fingerprint and the token: no key or certificate file is handed to it.</summary>
    private Task<ServiceInstance> StartTargetAsync(ServiceInstance depot, string device, string state, string? token = Token, Dictionary<string, string?>? more = null)
    {
        using X509Certificate2 pinned = X509Certificate2.CreateFromPem(File.ReadAllText(TestCertificates.Shared.Certificate));
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings.Remove("BlockTorrent:Target:ServerCertificate");
        settings["BlockTorrent:Target:ServerFingerprint"] = ServerTrust.FingerprintOf(pinned);
        settings["BlockTorrent:Target:Image"] = $"{depot.ManifestsUrl}/images/disk.img.torrent";
        settings["BlockTorrent:Target:ReportToken"] = token;
        settings["BlockTorrent:Target:Device"] = _dir.File(device);
        settings["BlockTorrent:StateDirectory"] = _dir.File(state);
        settings["BlockTorrent:Target:SeedAfter"] = "00:00:00";
        settings["BlockTorrent:Target:StopWhenDone"] = "true";
        foreach ((string key, string? value) in more ?? [])
        {
            settings[key] = value;
        }

        return ServiceInstance.StartAsync(_dir.Path, settings);
    }
}

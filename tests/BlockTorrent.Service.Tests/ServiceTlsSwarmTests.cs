using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using Microsoft.Extensions.Options;

namespace BlockTorrent.Service.Tests;

/// <summary>
/// The service's trust settings beside the CLI's: a depot whose manifests are TLS swarms of an authority it made,
/// signed with a certified key whose signatures expire and are renewed; targets presenting certificates of that
/// authority.
/// </summary>
public sealed class ServiceTlsSwarmTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ADepotWithATlsSwarmAndACertifiedSigningKeyServesManifestsTwoCertifiedTargetsDeployBitExact()
    {
        var image = new TestImage { Length = 3 << 20, Seed = 16 };
        (string signingCa, string signingKey, string signingChain) = WriteSigningFiles();
        await using ServiceInstance depot = await StartDepotAsync(image, new()
        {
            ["BlockTorrent:Depot:SigningKey"] = signingKey,
            ["BlockTorrent:Depot:SigningCertificate"] = signingChain,
        });
        string issued = DepotAuthority.Write(_dir.File("depot-state"), _dir.Path, "target");

        await using ServiceInstance first = await StartTargetAsync(depot, "target1.img", Certified(issued, signingCa));
        await using ServiceInstance second = await StartTargetAsync(depot, "target2.img", Certified(issued, signingCa));
        await Eventually.TrueAsync(() => first.Board.Target!.State == "seeding" && second.Board.Target!.State == "seeding", Bound, () => $"both targets finish: {Error(first)} / {Error(second)}", TestContext.Current.CancellationToken);

        byte[] expected = image.ToArray();
        Assert.Equal(expected, await File.ReadAllBytesAsync(_dir.File("target1.img"), TestContext.Current.CancellationToken));
        Assert.Equal(expected, await File.ReadAllBytesAsync(_dir.File("target2.img"), TestContext.Current.CancellationToken));
        TorrentManifest served = TorrentManifest.Load(_dir.File("images/disk.img.torrent"));
        using X509Certificate2 authority = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(_dir.File("depot-state/swarm-ca.pem"), TestContext.Current.CancellationToken));
        Assert.Equal(authority.RawData, served.SwarmAuthority!.RawData);
        ManifestSignature signature = Assert.Single(served.Signatures);
        Assert.Equal(2, signature.Certificates.Count);
        Assert.InRange(signature.ExpiresAt!.Value - signature.SignedAt!.Value, TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1), TimeSpan.FromDays(30) + TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task ATargetWithoutACertificateForADepotsTlsSwarmFailsSayingSoAndNeverCreatesItsDevice()
    {
        await using ServiceInstance depot = await StartDepotAsync(new TestImage { Length = 1 << 20 }, []);

        // Given the manifest as a file, the target does not enrol: it has no certificate.
        await using ServiceInstance target = await StartTargetAsync(depot, "target.img", new() { ["BlockTorrent:Target:Image"] = _dir.File("images/disk.img.torrent") });
        await target.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal("failed", target.Board.Target!.State);
        Assert.Contains("is a TLS swarm", Error(target), StringComparison.Ordinal);
        Assert.Contains("Target:TlsCertificate", Error(target), StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task ATargetWhoseCertificateAnotherAuthorityIssuedFailsBeforeItCreatesItsDevice()
    {
        await using ServiceInstance depot = await StartDepotAsync(new TestImage { Length = 1 << 20 }, []);
        using X509Certificate2 stranger = SwarmCertificates.CreateAuthority("stranger", TimeSpan.FromDays(1));
        using X509Certificate2 foreign = SwarmCertificates.Issue(stranger, SwarmCertificates.AnyTorrent, TimeSpan.FromDays(1));
        string foreignFile = DepotAuthority.Write(foreign, _dir.Path, "foreign");

        await using ServiceInstance target = await StartTargetAsync(depot, "target.img", new() { ["BlockTorrent:Target:TlsCertificate"] = foreignFile });
        await target.Stopped.WaitAsync(Bound, TestContext.Current.CancellationToken);

        Assert.Equal("failed", target.Board.Target!.State);
        Assert.Contains("would refuse", Error(target), StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task ADepotSignsItsManifestAgainBeforeTheSignatureExpiresWithoutStoppingTheSeed()
    {
        (_, string signingKey, _) = WriteSigningFiles();
        await using ServiceInstance depot = await StartDepotAsync(new TestImage { Length = 1 << 20 }, new()
        {
            ["BlockTorrent:Depot:TlsSwarm"] = "false",
            ["BlockTorrent:Depot:SigningKey"] = signingKey,
            ["BlockTorrent:Depot:SignatureLifetime"] = "00:00:06",
            ["BlockTorrent:Depot:RescanInterval"] = "00:00:01",
        });
        ManifestSignature first = Assert.Single(TorrentManifest.Load(_dir.File("images/disk.img.torrent")).Signatures);

        await Eventually.TrueAsync(
            () => TorrentManifest.Load(_dir.File("images/disk.img.torrent")).Signatures.Single().ExpiresAt > first.ExpiresAt,
            Bound,
            "the depot signs the manifest again before its signature expires",
            TestContext.Current.CancellationToken);

        ManifestSignature renewed = TorrentManifest.Load(_dir.File("images/disk.img.torrent")).Signatures.Single();
        Assert.True(renewed.IsValid);
        Assert.True(renewed.ExpiresAt > DateTimeOffset.UtcNow, "the renewed signature has not expired");
        Assert.True(depot.Board.TryGetImage("disk.img", out var status) && status!.State == "seeding", "the image is still served");
    }

    [Fact]
    public async Task AManifestTheDepotMadeForAPlainSwarmIsMadeAgainForItsAuthorityOnceTlsSwarmIsOn()
    {
        var image = new TestImage { Length = 1 << 20, Seed = 3 };
        InfoHash? plain;
        await using (ServiceInstance depot = await StartDepotAsync(image, new() { ["BlockTorrent:Depot:TlsSwarm"] = "false" }))
        {
            TorrentManifest first = TorrentManifest.Load(_dir.File("images/disk.img.torrent"));
            Assert.Null(first.SwarmAuthority);
            plain = first.InfoHashV2;
        }

        await using ServiceInstance restarted = await StartDepotAsync(image, []);

        TorrentManifest remade = TorrentManifest.Load(_dir.File("images/disk.img.torrent"));
        using X509Certificate2 authority = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(_dir.File("depot-state/swarm-ca.pem"), TestContext.Current.CancellationToken));
        Assert.Equal(authority.RawData, remade.SwarmAuthority!.RawData);
        Assert.NotEqual(plain, remade.InfoHashV2);
    }

    [Fact]
    public async Task ADepotSigningCertificateThatIsNotTheKeysIsRefusedAtStart()
    {
        (_, string signingKey, _) = WriteSigningFiles();
        using X509Certificate2 other = TestCertificates.SelfSigned("other");
        (string otherCertificate, _) = TestCertificates.Write(other, _dir.Path, "other");
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = _dir.Path;
        settings["BlockTorrent:Depot:SigningKey"] = signingKey;
        settings["BlockTorrent:Depot:SigningCertificate"] = otherCertificate;
        settings["BlockTorrent:Depot:SignatureLifetime"] = "00:00:01";

        OptionsValidationException e = await Assert.ThrowsAsync<OptionsValidationException>(() => ServiceInstance.StartAsync(_dir.Path, settings));

        Assert.Contains(e.Failures, f => f.Contains("SigningCertificate", StringComparison.Ordinal) && f.Contains("whose key is not the signing key", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.StartsWith("BlockTorrent:Depot:SignatureLifetime must be 0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ATargetWhoseTlsCertificateHasNoKeyIsRefusedAtStart()
    {
        using X509Certificate2 authority = SwarmCertificates.CreateAuthority("swarm", TimeSpan.FromDays(1));
        await File.WriteAllTextAsync(_dir.File("peer.pem"), authority.ExportCertificatePem(), TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = "https://127.0.0.1:9/images/disk.img.torrent";
        settings["BlockTorrent:Target:Device"] = _dir.File("target.img");
        settings["BlockTorrent:Target:TlsCertificate"] = _dir.File("peer.pem");

        OptionsValidationException e = await Assert.ThrowsAsync<OptionsValidationException>(() => ServiceInstance.StartAsync(_dir.Path, settings));

        Assert.Contains(e.Failures, f => f.StartsWith("BlockTorrent:Target:TlsCertificate:", StringComparison.Ordinal) && f.Contains("peer.key.pem", StringComparison.Ordinal));
    }

    private static string Error(ServiceInstance target) =>
        System.Text.Json.JsonDocument.Parse(target.Board.ToJson()).RootElement.GetProperty("target").TryGetProperty("error", out var error) ? error.GetString() ?? string.Empty : target.Board.Target!.State;

    private static Dictionary<string, string?> Certified(string certificate, string trust) => new()
    {
        ["BlockTorrent:Target:TlsCertificate"] = certificate,
        ["BlockTorrent:Target:Trust"] = trust,
    };

    /// <summary>Writes a signing CA, a key it certified (for digital signatures) and that key's chain; returns the three files.</summary>
    private (string Ca, string Key, string Chain) WriteSigningFiles()
    {
        using X509Certificate2 ca = TestCertificates.Authority("fleet signing CA");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=depot signer", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        using X509Certificate2 signer = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(20), RandomNumberGenerator.GetBytes(16));
        File.WriteAllText(_dir.File("signing-ca.pem"), ca.ExportCertificatePem() + "\n");
        File.WriteAllText(_dir.File("signer.key.pem"), key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(_dir.File("signer.pem"), signer.ExportCertificatePem() + "\n" + ca.ExportCertificatePem() + "\n");
        return (_dir.File("signing-ca.pem"), _dir.File("signer.key.pem"), _dir.File("signer.pem"));
    }

    private async Task<ServiceInstance> StartDepotAsync(TestImage image, Dictionary<string, string?> more)
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await image.WriteFileAsync(Path.Combine(images, "disk.img"), TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        settings["BlockTorrent:Depot:PieceSize"] = "65536";
        settings["BlockTorrent:Depot:TlsSwarm"] = "true";
        settings["BlockTorrent:StateDirectory"] = _dir.File("depot-state");
        foreach ((string key, string? value) in more)
        {
            settings[key] = value;
        }

        ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("disk.img", out var s) && s!.State == "seeding", Bound, "the depot seeds disk.img", TestContext.Current.CancellationToken);
        return depot;
    }

    private Task<ServiceInstance> StartTargetAsync(ServiceInstance depot, string device, Dictionary<string, string?> more)
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = $"{depot.ManifestsUrl}/images/disk.img.torrent";
        settings["BlockTorrent:Target:Device"] = _dir.File(device);
        settings["BlockTorrent:StateDirectory"] = _dir.File("state-" + device);
        foreach ((string key, string? value) in more)
        {
            settings[key] = value;
        }

        return ServiceInstance.StartAsync(_dir.Path, settings);
    }
}

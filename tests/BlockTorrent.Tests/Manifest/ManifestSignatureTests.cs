using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Bencode;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Tests.Swarm;

namespace BlockTorrent.Tests.Manifest;

/// <summary>Manifests signed outside their info dictionary, and the trust set that checks them.</summary>
public sealed class ManifestSignatureTests
{
    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task ASignedManifestReadsBackWithAValidSignatureByItsKeyAndTheSameInfoHashes(TorrentVersions versions)
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, unsigned) = await SwarmTestImages.CreateAsync(512 * 1024, seed: 3, versions);

        TorrentManifest signed = TorrentManifest.Parse(unsigned.WithSignature(key).ToTorrentBytes());

        ManifestSignature signature = Assert.Single(signed.Signatures);
        Assert.True(signature.IsValid);
        Assert.Equal(key.ExportSubjectPublicKeyInfo(), signature.PublicKey.ToArray());
        Assert.Equal(unsigned.InfoHashV1, signed.InfoHashV1);
        Assert.Equal(unsigned.InfoHashV2, signed.InfoHashV2);
        Assert.Equal(signature.Fingerprint, ManifestTrust.FromPem(key.ExportSubjectPublicKeyInfoPem()).Verify(signed).Fingerprint);
        Assert.Empty(unsigned.Signatures);
    }

    [Fact]
    public async Task TheBuilderSignsWithItsSigningKey()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var source = new MemoryBlockDevice(TestImageBytes(256 * 1024));

        TorrentManifest manifest = await ManifestBuilder.CreateAsync(source, new ManifestBuilderOptions { Name = "signed.img", SigningKey = key }, TestContext.Current.CancellationToken);

        Assert.True(Assert.Single(manifest.Signatures).IsValid);
        ManifestTrust.FromPublicKeys([key.ExportSubjectPublicKeyInfo()]).Verify(manifest);
    }

    [Fact]
    public async Task ASignatureSurvivesANewTrackerBecauseItCoversOnlyTheInfoHashes()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, manifest) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 4);

        TorrentManifest moved = TorrentManifest.Parse(manifest.WithSignature(key).WithTrackers(["http://tracker.example:6969/announce"]).ToTorrentBytes());

        Assert.True(Assert.Single(moved.Signatures).IsValid);
    }

    [Fact]
    public async Task ASignatureMovedOntoAnotherImageDoesNotVerifyAndIsRefused()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, genuine) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 5);
        var (_, other) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 6);
        byte[] forged = SpliceSignatures(other.ToTorrentBytes(), genuine.WithSignature(key).ToTorrentBytes());

        TorrentManifest tampered = TorrentManifest.Parse(forged);

        Assert.False(Assert.Single(tampered.Signatures).IsValid);
        var refusal = Assert.Throws<ManifestTrustException>(() => ManifestTrust.FromPem(key.ExportSubjectPublicKeyInfoPem()).Verify(tampered));
        Assert.Equal(ManifestTrustFailure.InvalidSignature, refusal.Reason);
    }

    [Fact]
    public async Task AFlippedBitInTheSignatureMakesItInvalid()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, manifest) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 7);
        byte[] bytes = manifest.WithSignature(key).ToTorrentBytes();
        int at = bytes.AsSpan().IndexOf("9:signature"u8);
        int length = int.Parse(System.Text.Encoding.ASCII.GetString(bytes, at + 11, 2), System.Globalization.CultureInfo.InvariantCulture);
        bytes[at + 11 + 3 + (length / 2)] ^= 0x01;

        Assert.False(Assert.Single(TorrentManifest.Parse(bytes).Signatures).IsValid);
    }

    [Fact]
    public async Task AnUnsignedManifestIsRefusedAsUnsigned()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, manifest) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 8);

        var refusal = Assert.Throws<ManifestTrustException>(() => ManifestTrust.FromPem(key.ExportSubjectPublicKeyInfoPem()).Verify(manifest));

        Assert.Equal(ManifestTrustFailure.Unsigned, refusal.Reason);
        Assert.Contains("not signed", refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AManifestSignedByAnotherKeyIsRefusedNamingTheSigner()
    {
        using ECDsa trusted = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using ECDsa stranger = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, manifest) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 9);
        TorrentManifest signed = manifest.WithSignature(stranger);

        var refusal = Assert.Throws<ManifestTrustException>(() => ManifestTrust.FromPem(trusted.ExportSubjectPublicKeyInfoPem()).Verify(signed));

        Assert.Equal(ManifestTrustFailure.UntrustedSigner, refusal.Reason);
        Assert.Contains(signed.Signatures[0].Fingerprint, refusal.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACertificateInATrustFileTrustsItsKey()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=depot", key, HashAlgorithmName.SHA256);
        using X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        var (_, manifest) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 10);

        ManifestTrust trust = ManifestTrust.FromPem(certificate.ExportCertificatePem());

        Assert.True(trust.Verify(manifest.WithSignature(key)).IsValid);
    }

    [Fact]
    public void ATrustFileRefusesAPrivateKeyAndAnEmptyFile()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        Assert.Throws<ArgumentException>(() => ManifestTrust.FromPem(key.ExportPkcs8PrivateKeyPem()));
        Assert.Throws<ArgumentException>(() => ManifestTrust.FromPem(string.Empty));
    }

    [Fact]
    public async Task AKeyOnAnotherCurveCannotSign()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var (_, manifest) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 11);

        Assert.Throws<ArgumentException>(() => manifest.WithSignature(key));
        Assert.Throws<ArgumentException>(() => ManifestTrust.FromPem(key.ExportSubjectPublicKeyInfoPem()));
    }

    [Fact]
    public async Task AnotherToolsSignaturesEntryIsKeptButNotReported()
    {
        var (_, manifest) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 12);
        byte[] foreign = SpliceSignatures(manifest.ToTorrentBytes(), "d10:signaturesd7:someoned9:signature3:abceee"u8.ToArray());

        TorrentManifest parsed = TorrentManifest.Parse(foreign);

        Assert.Empty(parsed.Signatures);
        Assert.Contains("7:someone", System.Text.Encoding.ASCII.GetString(parsed.ToTorrentBytes()), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ASignerCertifiedByATrustedCaIsTrustedWithoutItsKeyBeingListed()
    {
        using var issued = new CertifiedSigner();
        (X509Certificate2 ca, ECDsa signerKey, X509Certificate2 signer) = (issued.Ca, issued.Key, issued.Certificate);
        var (_, manifest) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 13);
        var options = new ManifestSigningOptions();
        options.Certificates.Add(signer);

        TorrentManifest signed = TorrentManifest.Parse(manifest.WithSignature(signerKey, options).ToTorrentBytes());
        var trust = ManifestTrust.FromPem(ca.ExportCertificatePem());

        ManifestSignature trusted = trust.Verify(signed);
        Assert.DoesNotContain(trusted.Fingerprint, trust.Fingerprints);
        Assert.Equal(signer.RawData, Assert.Single(trusted.Certificates).ToArray());
    }

    [Fact]
    public async Task ASignerCertifiedThroughAnIntermediateItCarriesIsTrustedByTheRootAlone()
    {
        using ECDsa rootKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 root = Authority("CN=Fleet root", rootKey);
        using ECDsa intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 intermediate = Issue(root, rootKey, "CN=Fleet images", intermediateKey, authority: true);
        using ECDsa signerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 signer = Issue(intermediate, intermediateKey, "CN=depot signer", signerKey);
        var (_, manifest) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 14);
        var options = new ManifestSigningOptions();
        options.Certificates.Add(signer);
        options.Certificates.Add(intermediate);

        TorrentManifest signed = TorrentManifest.Parse(manifest.WithSignature(signerKey, options).ToTorrentBytes());

        ManifestTrust.FromPem(root.ExportCertificatePem()).Verify(signed);
    }

    [Fact]
    public async Task ASignerCertifiedByAnotherCaIsRefusedNamingItsCertificate()
    {
        using ECDsa caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 ca = Authority("CN=Fleet CA", caKey);
        using ECDsa otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 other = Authority("CN=Other CA", otherKey);
        using ECDsa signerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 signer = Issue(other, otherKey, "CN=stranger", signerKey);
        var (_, manifest) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 15);
        var options = new ManifestSigningOptions();
        options.Certificates.Add(signer);
        TorrentManifest signed = manifest.WithSignature(signerKey, options);

        var e = Assert.Throws<ManifestTrustException>(() => ManifestTrust.FromPem(ca.ExportCertificatePem()).Verify(signed));

        Assert.Equal(ManifestTrustFailure.UntrustedSigner, e.Reason);
        Assert.Contains("CN=stranger, issued by CN=Other CA", e.Message, StringComparison.Ordinal);
        Assert.Contains("does not lead to a trusted CA", e.Message, StringComparison.Ordinal);
        Assert.Contains("CA CN=Fleet CA", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACertificateCarriedForAnotherKeyDoesNotMakeTheSignerTrusted()
    {
        using var issued = new CertifiedSigner();
        (X509Certificate2 ca, X509Certificate2 certified) = (issued.Ca, issued.Certificate);
        using ECDsa attackerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, manifest) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 16);

        // The signing side refuses to pair them; an attacker writes the entry by hand, as this splice does.
        byte[] attackerSigned = manifest.WithSignature(attackerKey).ToTorrentBytes();
        byte[] entry = [.. "12:certificatesl"u8, .. System.Text.Encoding.ASCII.GetBytes($"{certified.RawData.Length}:"), .. certified.RawData, (byte)'e'];
        int at = attackerSigned.AsSpan().IndexOf("12:blocktorrentd"u8) + "12:blocktorrentd".Length;
        TorrentManifest forged = TorrentManifest.Parse([.. attackerSigned.AsSpan(0, at), .. entry, .. attackerSigned.AsSpan(at)]);

        var e = Assert.Throws<ManifestTrustException>(() => ManifestTrust.FromPem(ca.ExportCertificatePem()).Verify(forged));

        Assert.True(Assert.Single(forged.Signatures).IsValid);
        Assert.Contains("whose certificate is not the signing key's", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => manifest.WithSignature(attackerKey, new ManifestSigningOptions { Certificates = { certified } }));
    }

    [Fact]
    public async Task ASignerWhoseCertificateHasExpiredIsRefused()
    {
        using var issued = new CertifiedSigner();
        (X509Certificate2 ca, ECDsa signerKey, X509Certificate2 signer) = (issued.Ca, issued.Key, issued.Certificate);
        var (_, manifest) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 17);
        TorrentManifest signed = manifest.WithSignature(signerKey, new ManifestSigningOptions { Certificates = { signer } });
        var trust = ManifestTrust.FromPem(ca.ExportCertificatePem());

        var e = Assert.Throws<ManifestTrustException>(() => trust.Verify(signed, signer.NotAfter.ToUniversalTime().AddDays(1)));

        Assert.Equal(ManifestTrustFailure.UntrustedSigner, e.Reason);
        trust.Verify(signed, signer.NotAfter.ToUniversalTime().AddDays(-1));
    }

    [Fact]
    public async Task ASignatureByATrustedKeyIsAcceptedUntilItExpiresAndRefusedAsExpiredAfter()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, manifest) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 18);
        var signedAt = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        TorrentManifest signed = TorrentManifest.Parse(manifest.WithSignature(key, new ManifestSigningOptions { SignedAt = signedAt, ExpiresAt = signedAt.AddDays(30) }).ToTorrentBytes());
        var trust = ManifestTrust.FromPem(key.ExportSubjectPublicKeyInfoPem());

        ManifestSignature accepted = trust.Verify(signed, signedAt.AddDays(29));
        var e = Assert.Throws<ManifestTrustException>(() => trust.Verify(signed, signedAt.AddDays(30)));

        Assert.Equal(signedAt, accepted.SignedAt);
        Assert.Equal(signedAt.AddDays(30), accepted.ExpiresAt);
        Assert.Equal(ManifestTrustFailure.Expired, e.Reason);
        Assert.Contains("expired at 2026-12-31 00:00:00Z", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheExpiryIsSignedSoMovingItLaterBreaksTheSignature()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var (_, manifest) = await SwarmTestImages.CreateAsync(256 * 1024, seed: 19);
        var signedAt = new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);
        byte[] bytes = manifest.WithSignature(key, new ManifestSigningOptions { SignedAt = signedAt, ExpiresAt = signedAt.AddDays(30) }).ToTorrentBytes();
        string expires = $"7:expiresi{signedAt.AddDays(30).ToUnixTimeSeconds()}e";
        string later = $"7:expiresi{signedAt.AddDays(90).ToUnixTimeSeconds()}e";
        Assert.Equal(expires.Length, later.Length);
        int at = bytes.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(expires));
        System.Text.Encoding.ASCII.GetBytes(later).CopyTo(bytes, at);

        TorrentManifest moved = TorrentManifest.Parse(bytes);

        Assert.False(Assert.Single(moved.Signatures).IsValid);
        Assert.Equal(ManifestTrustFailure.InvalidSignature, Assert.Throws<ManifestTrustException>(() => ManifestTrust.FromPem(key.ExportSubjectPublicKeyInfoPem()).Verify(moved)).Reason);
    }

    /// <summary>A CA (CN=Fleet CA) and a signing key it certified (CN=depot signer).</summary>
    private sealed class CertifiedSigner : IDisposable
    {
        private readonly ECDsa _caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        public CertifiedSigner()
        {
            Ca = Authority("CN=Fleet CA", _caKey);
            Certificate = Issue(Ca, _caKey, "CN=depot signer", Key);
        }

        public X509Certificate2 Ca { get; }

        public ECDsa Key { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        public X509Certificate2 Certificate { get; }

        public void Dispose()
        {
            Certificate.Dispose();
            Ca.Dispose();
            Key.Dispose();
            _caKey.Dispose();
        }
    }

    private static X509Certificate2 Authority(string subject, ECDsa key)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
    }

    private static X509Certificate2 Issue(X509Certificate2 issuer, ECDsa issuerKey, string subject, ECDsa key, bool authority = false)
    {
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(authority, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(authority ? X509KeyUsageFlags.KeyCertSign : X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        using X509Certificate2? withKey = issuer.HasPrivateKey ? null : issuer.CopyWithPrivateKey(issuerKey);
        return request.Create(withKey ?? issuer, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1), RandomNumberGenerator.GetBytes(16));
    }

    private static byte[] TestImageBytes(int length)
    {
        var bytes = new byte[length];
        new Random(1).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Puts the <c>signatures</c> entry of one .torrent into another, unsigned one without web seeds.</summary>
    private static byte[] SpliceSignatures(byte[] unsigned, byte[] from)
    {
        var reader = new BencodeReader(from);
        reader.Read();
        while (reader.Read() && reader.TokenType == BencodeTokenType.String)
        {
            bool found = reader.ValueSpan.SequenceEqual("signatures"u8);
            reader.Read();
            int start = reader.TokenStart;
            reader.Skip();
            if (found)
            {
                byte[] entry = [.. "10:signatures"u8, .. from.AsSpan(start, reader.BytesConsumed - start)];
                // "signatures" sorts after every key these test torrents have, so it goes last.
                return [.. unsigned.AsSpan(0, unsigned.Length - 1), .. entry, (byte)'e'];
            }
        }

        throw new InvalidOperationException("no signatures entry");
    }
}

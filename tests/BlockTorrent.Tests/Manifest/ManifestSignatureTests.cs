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

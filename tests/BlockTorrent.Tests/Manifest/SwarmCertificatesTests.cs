using System.Security.Cryptography.X509Certificates;
using System.Text;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Manifest;

/// <summary>Swarm authorities and peer certificates, and the manifest's <c>ssl-cert</c>.</summary>
public sealed class SwarmCertificatesTests
{
    private static readonly TimeSpan Year = TimeSpan.FromDays(365);

    [Fact]
    public void ACertificateIssuedForAnyTorrentIsAdmittedByItsAuthority()
    {
        using X509Certificate2 authority = SwarmCertificates.CreateAuthority("fleet", Year);
        using X509Certificate2 peer = SwarmCertificates.Issue(authority, SwarmCertificates.AnyTorrent, Year);

        Assert.True(SwarmCertificates.Admits(authority, "image.raw", peer, null, out string? reason), reason);
        Assert.True(peer.HasPrivateKey);
    }

    [Fact]
    public void ACertificateOfAnotherAuthorityIsRefused()
    {
        using X509Certificate2 authority = SwarmCertificates.CreateAuthority("fleet", Year);
        using X509Certificate2 stranger = SwarmCertificates.CreateAuthority("fleet", Year);
        using X509Certificate2 peer = SwarmCertificates.Issue(stranger, SwarmCertificates.AnyTorrent, Year);

        Assert.False(SwarmCertificates.Admits(authority, "image.raw", peer, null, out string? reason));
        Assert.Contains("not signed by the swarm's authority", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void ACertificateForAnotherTorrentIsRefusedAndOneForThisTorrentIsAdmitted()
    {
        using X509Certificate2 authority = SwarmCertificates.CreateAuthority("fleet", Year);
        using X509Certificate2 other = SwarmCertificates.Issue(authority, "other.raw", Year);
        using X509Certificate2 mine = SwarmCertificates.Issue(authority, "image.raw", Year);

        Assert.False(SwarmCertificates.Admits(authority, "image.raw", other, null, out string? reason));
        Assert.Contains("names neither", reason, StringComparison.Ordinal);
        Assert.True(SwarmCertificates.Admits(authority, "image.raw", mine, null, out _));
    }

    [Fact]
    public async Task AManifestWithASwarmAuthorityCarriesItsCertificateAndNoKeyInTheInfoDictionary()
    {
        using X509Certificate2 authority = SwarmCertificates.CreateAuthority("fleet", Year);
        byte[] image = new TestImage { Length = 300 * 1024, Seed = 3, BlockSize = 64 * 1024 }.ToArray();
        var options = new ManifestBuilderOptions { PieceLength = 64 * 1024, Name = "image.raw", SwarmAuthority = authority };

        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice(image), options, TestContext.Current.CancellationToken);
        TorrentManifest reread = TorrentManifest.Parse(manifest.ToTorrentBytes());

        string info = Encoding.ASCII.GetString(manifest.InfoDictionary.Span);
        Assert.Contains("8:ssl-cert", info, StringComparison.Ordinal);
        Assert.Contains("-----BEGIN CERTIFICATE-----", info, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", info, StringComparison.Ordinal);
        Assert.Equal(authority.Thumbprint, reread.SwarmAuthority!.Thumbprint);
        Assert.False(reread.SwarmAuthority.HasPrivateKey);
    }

    [Fact]
    public async Task AManifestWithoutASwarmAuthorityHasNone()
    {
        byte[] image = new TestImage { Length = 100 * 1024, Seed = 4, BlockSize = 64 * 1024 }.ToArray();

        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice(image), new ManifestBuilderOptions { PieceLength = 64 * 1024, Name = "image.raw" }, TestContext.Current.CancellationToken);

        Assert.Null(manifest.SwarmAuthority);
    }

    [Fact]
    public void AnSslCertThatIsNotACertificateMakesTheTorrentInvalid()
    {
        string garbage = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        byte[] info = Encoding.ASCII.GetBytes($"d6:lengthi16384e4:name9:image.raw12:piece lengthi16384e6:pieces20:{new string('a', 20)}8:ssl-cert{garbage.Length}:{garbage}e");
        byte[] torrent = [.. "d4:info"u8, .. info, (byte)'e'];

        var error = Assert.Throws<InvalidTorrentException>(() => TorrentManifest.Parse(torrent));

        Assert.Contains("info.ssl-cert", error.Message, StringComparison.Ordinal);
    }
}

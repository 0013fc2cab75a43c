using System.Net;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Swarm;

/// <summary>
/// TLS swarms with libtorrent's SSL torrents: the manifest's <c>ssl-cert</c> names the swarm authority, each side
/// presents a certificate it signed, and images cross bit-exact both ways; a libtorrent peer with a certificate of
/// another authority gets nothing.
/// </summary>
public sealed class LibtorrentTlsSwarmTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Year = TimeSpan.FromDays(365);

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task LibtorrentDownloadsATlsTorrentBitExactFromABlockTorrentSeed(TorrentVersions versions)
    {
        using var dir = new TempDirectory();
        using X509Certificate2 authority = SwarmCertificates.CreateAuthority("interop", Year);
        var (image, manifest, torrent) = await CreateAsync(dir, authority, versions, seed: 71);
        using X509Certificate2 ours = SwarmCertificates.Issue(authority, SwarmCertificates.AnyTorrent, Year);
        (string Certificate, string Key) theirs = WritePeerCertificate(dir, "libtorrent", SwarmCertificates.Issue(authority, manifest.Name, Year));
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(WithCertificate(ours), new TestOutputLoggerFactory());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        string downloads = Directory.CreateDirectory(Path.Combine(dir.Path, "lt")).FullName;

        await using (LibtorrentSwarmPeer libtorrent = await LibtorrentSwarmPeer.DownloadAsync(torrent, downloads, seeder.LocalEndPoint, cts.Token, theirs))
        {
            await libtorrent.WaitForCompletionAsync(Bound, cts.Token);
        }

        Assert.Equal(image, await File.ReadAllBytesAsync(Path.Combine(downloads, manifest.Name), cts.Token));
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task BlockTorrentDeploysATlsTorrentBitExactFromALibtorrentSeed(TorrentVersions versions)
    {
        using var dir = new TempDirectory();
        using X509Certificate2 authority = SwarmCertificates.CreateAuthority("interop", Year);
        var (image, manifest, torrent) = await CreateAsync(dir, authority, versions, seed: 72);
        await File.WriteAllBytesAsync(Path.Combine(dir.Path, manifest.Name), image, TestContext.Current.CancellationToken);
        using X509Certificate2 ours = SwarmCertificates.Issue(authority, manifest.Name, Year);
        (string Certificate, string Key) theirs = WritePeerCertificate(dir, "libtorrent", SwarmCertificates.Issue(authority, SwarmCertificates.AnyTorrent, Year));
        using var cts = new CancellationTokenSource(Bound);
        await using var libtorrent = await LibtorrentSwarmPeer.SeedAsync(torrent, dir.Path, cts.Token, theirs);
        await using var deployer = new BlockTorrentClient(WithCertificate(ours), new TestOutputLoggerFactory());
        var target = new MemoryBlockDevice(manifest.Length);
        var options = new DeployOptions();
        options.Peers.Add(new IPEndPoint(IPAddress.Loopback, libtorrent.Port));

        DeploymentResult result = await deployer.DeployAsync(manifest, target, options, null, cts.Token);

        Assert.True(image.AsSpan().SequenceEqual(target.Contents.Span), $"the deployed image differs\n{libtorrent.Output}");
        Assert.Equal(0, result.HashFailures);
    }

    [Fact]
    public async Task ALibtorrentPeerWithACertificateOfAnotherAuthorityGetsNoByteFromABlockTorrentSeed()
    {
        using var dir = new TempDirectory();
        using X509Certificate2 authority = SwarmCertificates.CreateAuthority("interop", Year);
        using X509Certificate2 stranger = SwarmCertificates.CreateAuthority("interop", Year);
        var (image, manifest, torrent) = await CreateAsync(dir, authority, TorrentVersions.Hybrid, seed: 73);
        using X509Certificate2 ours = SwarmCertificates.Issue(authority, SwarmCertificates.AnyTorrent, Year);
        (string Certificate, string Key) theirs = WritePeerCertificate(dir, "intruder", SwarmCertificates.Issue(stranger, SwarmCertificates.AnyTorrent, Year));
        using var cts = new CancellationTokenSource(Bound);
        await using var seeder = new BlockTorrentClient(WithCertificate(ours), new TestOutputLoggerFactory());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        string downloads = Directory.CreateDirectory(Path.Combine(dir.Path, "lt")).FullName;

        await using (LibtorrentSwarmPeer libtorrent = await LibtorrentSwarmPeer.DownloadAsync(torrent, downloads, seeder.LocalEndPoint, cts.Token, theirs, timeoutSeconds: 8))
        {
            string output = await libtorrent.WaitForExitAsync(Bound, cts.Token);
            Assert.Contains("\"timeout\": true", output, StringComparison.Ordinal);
            Assert.Contains("\"downloaded\": 0,", output, StringComparison.Ordinal);
        }

        string file = Path.Combine(downloads, manifest.Name);
        Assert.True(!File.Exists(file) || File.ReadAllBytes(file).AsSpan().IndexOfAnyExcept((byte)0) < 0, "libtorrent wrote image bytes");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    private static async Task<(byte[] Image, TorrentManifest Manifest, string TorrentPath)> CreateAsync(TempDirectory dir, X509Certificate2 authority, TorrentVersions versions, int seed)
    {
        byte[] image = new TestImage { Length = 3 * 1024 * 1024 + 1234, Seed = seed, BlockSize = InteropImages.PieceLength }.ToArray();
        var options = new ManifestBuilderOptions { PieceLength = InteropImages.PieceLength, Name = "image.raw", Versions = versions, SwarmAuthority = authority };
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice((byte[])image.Clone()), options, TestContext.Current.CancellationToken);
        string path = dir.File("image.torrent");
        await manifest.SaveAsync(path, TestContext.Current.CancellationToken);
        return (image, manifest, path);
    }

    private static BlockTorrentClientOptions WithCertificate(X509Certificate2 certificate)
    {
        BlockTorrentClientOptions options = InteropImages.Loopback();
        options.PeerCertificate = certificate;
        return options;
    }

    private static (string Certificate, string Key) WritePeerCertificate(TempDirectory dir, string name, X509Certificate2 certificate)
    {
        using (certificate)
        {
            using System.Security.Cryptography.ECDsa key = certificate.GetECDsaPrivateKey()!;
            string certificatePath = dir.File(name + ".pem");
            string keyPath = dir.File(name + ".key.pem");
            File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
            File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
            return (certificatePath, keyPath);
        }
    }
}

using System.Security.Cryptography;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>A target service with <c>Target:Trust</c> or a pinned info-hash: the wrong manifest never reaches its device.</summary>
public sealed class ServiceManifestTrustTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ATargetTrustingAKeyDeploysTheManifestSignedByIt()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var image = new TestImage { Length = 1 << 20, Seed = 5 };
        string torrent = await WriteImageAndManifestAsync(image, key);
        await File.WriteAllTextAsync(_dir.File("trust.pem"), key.ExportSubjectPublicKeyInfoPem(), TestContext.Current.CancellationToken);

        // The device already holds the image, so the deployment completes by reading it back: no seed is needed.
        await using ServiceProcess target = StartTarget(torrent, $"--BlockTorrent:Target:Trust={_dir.File("trust.pem")}", $"--BlockTorrent:Target:Device={_dir.File("disk.img")}");

        Assert.True(await target.WaitForExitAsync(Bound) == 0, target.Output);
        Assert.Contains("is signed by trusted key SHA256:", target.Output, StringComparison.Ordinal);
        Assert.Equal(image.ToArray(), await File.ReadAllBytesAsync(_dir.File("disk.img"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ATargetTrustingAKeyRefusesAnUnsignedManifestAndNeverCreatesItsDevice()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string torrent = await WriteImageAndManifestAsync(new TestImage { Length = 1 << 20 }, signingKey: null);
        await File.WriteAllTextAsync(_dir.File("trust.pem"), key.ExportSubjectPublicKeyInfoPem(), TestContext.Current.CancellationToken);

        await using ServiceProcess target = StartTarget(torrent, $"--BlockTorrent:Target:Trust={_dir.File("trust.pem")}");

        Assert.True(await target.WaitForExitAsync(Bound) == 1, target.Output);
        Assert.Contains("is not signed", target.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task ATargetWithAPinnedInfoHashRefusesAnotherManifestAndNeverCreatesItsDevice()
    {
        string torrent = await WriteImageAndManifestAsync(new TestImage { Length = 1 << 20 }, signingKey: null);
        string pinned = new('1', 40);

        await using ServiceProcess target = StartTarget(torrent, $"--BlockTorrent:Target:InfoHash={pinned}");

        Assert.True(await target.WaitForExitAsync(Bound) == 1, target.Output);
        Assert.Contains($"not the pinned image {pinned}", target.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task ATargetWhoseImageUrlPinsAMalformedInfoHashIsRefusedAtStartWithExitTwo()
    {
        await using ServiceProcess target = StartTarget("http://127.0.0.1:9/images/disk.img.torrent#btih=xyz");

        Assert.True(await target.WaitForExitAsync(Bound) == 2, target.Output);
        Assert.Contains("'xyz' is not an info-hash", target.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADepotWithASigningKeySignsTheManifestItServesWithThatKey()
    {
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        await File.WriteAllTextAsync(_dir.File("depot.pem"), key.ExportPkcs8PrivateKeyPem(), TestContext.Current.CancellationToken);
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await new TestImage { Length = 1 << 20 }.WriteFileAsync(Path.Combine(images, "disk.img"), TestContext.Current.CancellationToken);

        await using ServiceProcess depot = ServiceProcess.Start([.. ServiceProcess.Loopback(_dir, "Depot"), $"--BlockTorrent:Depot:ImageFolder={images}", $"--BlockTorrent:Depot:SigningKey={_dir.File("depot.pem")}"]);
        await depot.WaitForOutputAsync("Depot: seeding disk.img", Bound);

        TorrentManifest served = TorrentManifest.Load(Path.Combine(images, "disk.img.torrent"));
        Assert.Equal(ManifestTrust.FromPem(key.ExportSubjectPublicKeyInfoPem()).Fingerprints.Single(), ManifestTrust.FromPem(key.ExportSubjectPublicKeyInfoPem()).Verify(served).Fingerprint);
        await depot.TerminateAsync();
        Assert.True(await depot.WaitForExitAsync(Bound) == 0, depot.Output);
    }

    private ServiceProcess StartTarget(string image, params string[] more) => ServiceProcess.Start(
    [
        .. ServiceProcess.Loopback(_dir, "Target"),
        $"--BlockTorrent:Target:Image={image}",
        $"--BlockTorrent:Target:Device={_dir.File("target.img")}",
        $"--BlockTorrent:StateDirectory={_dir.File("state")}",
        "--BlockTorrent:Target:StopWhenDone=true",
        .. more,
    ]);

    /// <summary>Writes disk.img and disk.torrent, signed when a key is given.</summary>
    private async Task<string> WriteImageAndManifestAsync(TestImage image, ECDsa? signingKey)
    {
        string path = _dir.File("disk.img");
        await image.WriteFileAsync(path, TestContext.Current.CancellationToken);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(path, new ManifestBuilderOptions { PieceLength = 64 << 10, SigningKey = signingKey }, TestContext.Current.CancellationToken);
        string torrent = _dir.File("disk.torrent");
        await manifest.SaveAsync(torrent, TestContext.Current.CancellationToken);
        return torrent;
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Manifest;

/// <summary>
/// A signed manifest stays a .torrent every client reads: the signature, with its certificate chain and signed
/// times, sits outside the info dictionary, so the other clients load it with the same info-hashes as the unsigned one.
/// </summary>
public sealed partial class SignedManifestInteropTests
{
    private const long Length = (37 * 16384) + 123;
    private const int PieceLength = 16384;

    [Theory]
    [InlineData(TorrentVersions.V1)]
    [InlineData(TorrentVersions.V2)]
    [InlineData(TorrentVersions.Hybrid)]
    public async Task LibtorrentLoadsASignedManifestWithTheUnsignedInfoHashes(TorrentVersions versions)
    {
        Requires.PythonLibtorrent();
        using var dir = new TempDirectory();
        (TorrentManifest unsigned, string path) = await WriteSignedAsync(dir, versions);

        Dictionary<string, string> lt = await Libtorrent.ReadAsync(path);

        Assert.Equal(unsigned.InfoHashV1?.ToHex() ?? "-", lt["v1"]);
        Assert.Equal(unsigned.InfoHashV2?.ToHex() ?? "-", lt["v2"]);
        Assert.True(TorrentManifest.Load(path).Signatures.Single().IsValid);
    }

    // aria2 1.36 and Transmission 3.00 do not read BEP 52 file trees, so they are checked on a v1 torrent.
    [Fact]
    public async Task Aria2LoadsASignedV1ManifestWithTheUnsignedInfoHash()
    {
        string aria2c = Requires.Program("aria2c", "aria2");
        await AssertProgramShowsTheUnsignedV1InfoHashAsync(aria2c, ["-S"], Aria2InfoHash());
    }

    [Fact]
    public async Task TransmissionLoadsASignedV1ManifestWithTheUnsignedInfoHash()
    {
        string show = Requires.Program("transmission-show", "transmission-cli");
        await AssertProgramShowsTheUnsignedV1InfoHashAsync(show, [], TransmissionInfoHash());
    }

    private static async Task AssertProgramShowsTheUnsignedV1InfoHashAsync(string program, string[] arguments, Regex infoHash)
    {
        using var dir = new TempDirectory();
        (TorrentManifest unsigned, string path) = await WriteSignedAsync(dir, TorrentVersions.V1);

        var result = (await ExternalProgram.RunAsync(program, [.. arguments, path], TimeSpan.FromMinutes(1), cancellationToken: TestContext.Current.CancellationToken)).EnsureSuccess(program);

        Match hash = infoHash.Match(result.StandardOutput);
        Assert.True(hash.Success, result.StandardOutput);
        Assert.Equal(unsigned.InfoHashV1!.Value.ToHex(), hash.Groups[1].Value, ignoreCase: true);
    }

    /// <summary>Makes an image, its unsigned manifest, and a signed copy saved as signed.torrent.</summary>
    private static async Task<(TorrentManifest Unsigned, string Path)> WriteSignedAsync(TempDirectory dir, TorrentVersions versions)
    {
        string image = dir.File("image.raw");
        await new TestImage { Length = Length, Seed = 16, BlockSize = PieceLength, ZeroRunBlocks = 3 }.WriteFileAsync(image, TestContext.Current.CancellationToken);
        var options = new ManifestBuilderOptions { PieceLength = PieceLength, Versions = versions };
        options.Trackers.Add("http://127.0.0.1:1/announce");
        TorrentManifest unsigned = await ManifestBuilder.CreateAsync(image, options, TestContext.Current.CancellationToken);
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string path = dir.File("signed.torrent");

        // Everything a signature may carry: the signer's certificate, and a signed time and expiry.
        using X509Certificate2 certificate = new CertificateRequest("CN=depot signer", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var signing = new ManifestSigningOptions { ExpiresAt = DateTimeOffset.UtcNow.AddDays(30) };
        signing.Certificates.Add(certificate);
        await unsigned.WithSignature(key, signing).SaveAsync(path, TestContext.Current.CancellationToken);
        Assert.True(File.ReadAllBytes(path).AsSpan().IndexOf("12:certificates"u8) >= 0, "the saved .torrent carries no certificates");
        Assert.True(File.ReadAllBytes(path).AsSpan().IndexOf("7:expires"u8) >= 0, "the saved .torrent carries no expiry");
        return (unsigned, path);
    }

    [GeneratedRegex(@"Info Hash:\s*([0-9a-fA-F]{40})")]
    private static partial Regex Aria2InfoHash();

    [GeneratedRegex(@"Hash:\s*([0-9a-fA-F]{40})")]
    private static partial Regex TransmissionInfoHash();
}

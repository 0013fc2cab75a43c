using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

/// <summary>
/// <c>keygen</c>, <c>create --sign</c>, <c>info</c> and <c>deploy --trust</c> / <c>--btih</c>, each run as its own
/// process, as an operator runs them.
/// </summary>
public sealed class SignedManifestTests : IDisposable
{
    private const int ImageLength = 4 << 20;
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ASignedManifestDeploysBitExactWithItsKeyTrustedAndInfoShowsTheSigner()
    {
        ProgramResult keygen = await CliAsync("keygen", "-o", _dir.File("depot.pem"));
        string image = await SignedImageAsync();
        string fingerprint = keygen.StandardOutput.Split('\n').Single(l => l.StartsWith("fingerprint:", StringComparison.Ordinal))["fingerprint:".Length..].Trim();

        ProgramResult info = await CliAsync("info", _dir.File("disk.torrent"));
        ProgramResult json = await CliAsync("info", _dir.File("disk.torrent"), "--json");
        await using LibrarySeed seed = LibrarySeed.Start(_dir.File("disk.torrent"), image);
        ProgramResult deploy = await CliAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--peer", seed.EndPoint, "--listen", "127.0.0.1:0", "--trust", _dir.File("depot.pub.pem"), "--timeout", "90s");

        Assert.True(deploy.ExitCode == 0, deploy.ToString());
        Assert.Equal(File.ReadAllBytes(image), File.ReadAllBytes(_dir.File("target.img")));
        Assert.Contains($"signed by:        {fingerprint} (valid signature)", info.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"\"fingerprint\":\"{fingerprint}\",\"valid\":true", json.StandardOutput, StringComparison.Ordinal);
        Assert.Contains($"manifest signed by trusted key {fingerprint}", deploy.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AManifestSignedByAnotherKeyExitsEightAndTheTargetFileIsNeverCreated()
    {
        await SignedImageAsync();
        await CliAsync("keygen", "-o", _dir.File("stranger.pem"));

        ProgramResult deploy = await RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--peer", "127.0.0.1:9", "--trust", _dir.File("stranger.pub.pem"));

        Assert.True(deploy.ExitCode == 8, deploy.ToString());
        Assert.Contains("not trusted", deploy.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task AnUnsignedManifestWithTrustGivenExitsEightAndAnExistingTargetIsUnchanged()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliAsync("create", image, "-o", _dir.File("plain.torrent"), "--piece-size", "64KiB");
        await CliAsync("keygen", "-o", _dir.File("depot.pem"));
        byte[] before = new byte[ImageLength];
        Array.Fill(before, (byte)0xA5);
        File.WriteAllBytes(_dir.File("target.img"), before);

        ProgramResult deploy = await RunAsync("deploy", _dir.File("plain.torrent"), "--target", _dir.File("target.img"), "--peer", "127.0.0.1:9", "--trust", _dir.File("depot.pub.pem"));

        Assert.True(deploy.ExitCode == 8, deploy.ToString());
        Assert.Contains("not signed", deploy.StandardError, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(_dir.File("target.img")));
    }

    [Fact]
    public async Task ATamperedSignedManifestExitsEightAsAlteredAndInfoCallsItInvalid()
    {
        await SignedImageAsync();
        byte[] torrent = File.ReadAllBytes(_dir.File("disk.torrent"));
        int at = torrent.AsSpan().IndexOf("9:signature"u8);
        torrent[at + 11 + 3 + 10] ^= 0x01;
        File.WriteAllBytes(_dir.File("tampered.torrent"), torrent);

        ProgramResult info = await CliAsync("info", _dir.File("tampered.torrent"));
        ProgramResult deploy = await RunAsync("deploy", _dir.File("tampered.torrent"), "--target", _dir.File("target.img"), "--peer", "127.0.0.1:9", "--trust", _dir.File("depot.pub.pem"));

        Assert.Contains("INVALID", info.StandardOutput, StringComparison.Ordinal);
        Assert.True(deploy.ExitCode == 8, deploy.ToString());
        Assert.Contains("does not verify", deploy.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task AManifestThatIsNotThePinnedImageExitsEightWithoutSignatures()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliAsync("create", image, "-o", _dir.File("plain.torrent"), "--piece-size", "64KiB");
        string pinned = new string('0', 40);

        ProgramResult deploy = await RunAsync("deploy", _dir.File("plain.torrent"), "--target", _dir.File("target.img"), "--peer", "127.0.0.1:9", "--btih", pinned);

        Assert.True(deploy.ExitCode == 8, deploy.ToString());
        Assert.Contains($"not the pinned {pinned}", deploy.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task CreateSignsWithAnOpenSslKeyAndInfoShowsItsFingerprint()
    {
        Requires.Program("openssl", "openssl");
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        (await ExternalProgram.RunAsync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", _dir.File("ossl.pem")], Bound, cancellationToken: TestContext.Current.CancellationToken)).EnsureSuccess("openssl ecparam");
        (await ExternalProgram.RunAsync("openssl", ["ec", "-in", _dir.File("ossl.pem"), "-pubout", "-out", _dir.File("ossl.pub.pem")], Bound, cancellationToken: TestContext.Current.CancellationToken)).EnsureSuccess("openssl ec");

        await CliAsync("create", image, "-o", _dir.File("disk.torrent"), "--sign", _dir.File("ossl.pem"));

        string expected = ManifestTrust.Load(_dir.File("ossl.pub.pem")).Fingerprints.Single();
        Assert.Contains($"signed by:        {expected} (valid signature)", (await CliAsync("info", _dir.File("disk.torrent"))).StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AManifestSignedUnderAnOpenSslCaDeploysWithOnlyTheCaTrustedAndInfoShowsTheCertificateAndExpiry()
    {
        string image = await CaSignedImageAsync("30d");

        ProgramResult info = await CliAsync("info", _dir.File("disk.torrent"));
        await using LibrarySeed seed = LibrarySeed.Start(_dir.File("disk.torrent"), image);
        ProgramResult deploy = await CliAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--peer", seed.EndPoint, "--listen", "127.0.0.1:0", "--trust", _dir.File("ca.crt"), "--timeout", "90s");

        Assert.Equal(File.ReadAllBytes(image), File.ReadAllBytes(_dir.File("target.img")));
        Assert.Contains("  certificate:    CN=depot signer, issued by CN=Fleet CA", info.StandardOutput, StringComparison.Ordinal);
        Assert.Matches(@"  signed at:      \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ, expires \d{4}-", info.StandardOutput);
        Assert.Contains("manifest signed by trusted key SHA256:", deploy.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AManifestWhoseSignatureHasExpiredExitsEightAsExpiredAndTheTargetFileIsNeverCreated()
    {
        await CliAsync("keygen", "-o", _dir.File("depot.pem"));
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliAsync("create", image, "-o", _dir.File("plain.torrent"), "--piece-size", "64KiB");
        using var key = System.Security.Cryptography.ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(_dir.File("depot.pem")));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        await TorrentManifest.Load(_dir.File("plain.torrent")).WithSignature(key, new ManifestSigningOptions { SignedAt = now.AddDays(-31), ExpiresAt = now.AddDays(-1) }).SaveAsync(_dir.File("old.torrent"), TestContext.Current.CancellationToken);

        ProgramResult deploy = await RunAsync("deploy", _dir.File("old.torrent"), "--target", _dir.File("target.img"), "--peer", "127.0.0.1:9", "--trust", _dir.File("depot.pub.pem"));

        Assert.True(deploy.ExitCode == 8, deploy.ToString());
        Assert.Contains("but the signature expired at", deploy.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task AManifestSignedUnderAnotherCaExitsEightNamingTheSignersCertificate()
    {
        await CaSignedImageAsync(expires: null);
        string openssl = Requires.Program("openssl", "openssl");
        await OpenSslAsync(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", _dir.File("other.key"), "-out", _dir.File("other.crt"), "-subj", "/CN=Other CA", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");

        ProgramResult deploy = await RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--peer", "127.0.0.1:9", "--trust", _dir.File("other.crt"));

        Assert.True(deploy.ExitCode == 8, deploy.ToString());
        Assert.Contains("(CN=depot signer, issued by CN=Fleet CA), whose certificate chain does not lead to a trusted CA", deploy.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task CreateRefusesAPublicKeyAsASigningKeyBeforeHashing()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliAsync("keygen", "-o", _dir.File("depot.pem"));

        ProgramResult create = await RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--sign", _dir.File("depot.pub.pem"));

        Assert.True(create.ExitCode == 3, create.ToString());
        Assert.False(File.Exists(_dir.File("disk.torrent")));
    }

    /// <summary>Writes disk.img, a key pair depot.pem / depot.pub.pem, and disk.torrent signed with it.</summary>
    private async Task<string> SignedImageAsync()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        if (!File.Exists(_dir.File("depot.pem")))
        {
            await CliAsync("keygen", "-o", _dir.File("depot.pem"));
        }

        await CliAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB", "--sign", _dir.File("depot.pem"));
        return image;
    }

    /// <summary>
    /// Writes disk.img, a CA made with openssl (ca.crt, ca.key), a signing key from keygen certified by it for signing
    /// (signer.crt), and disk.torrent signed with that key, carrying signer.crt, expiring after <paramref name="expires"/>.
    /// </summary>
    private async Task<string> CaSignedImageAsync(string? expires)
    {
        string openssl = Requires.Program("openssl", "openssl");
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await OpenSslAsync(openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", _dir.File("ca.key"), "-out", _dir.File("ca.crt"), "-subj", "/CN=Fleet CA", "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
        await CliAsync("keygen", "-o", _dir.File("signer.pem"));
        await OpenSslAsync(openssl, "req", "-new", "-key", _dir.File("signer.pem"), "-subj", "/CN=depot signer", "-out", _dir.File("signer.csr"));
        File.WriteAllText(_dir.File("signer.ext"), "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n");
        await OpenSslAsync(openssl, "x509", "-req", "-in", _dir.File("signer.csr"), "-CA", _dir.File("ca.crt"), "-CAkey", _dir.File("ca.key"), "-CAcreateserial", "-days", "10", "-extfile", _dir.File("signer.ext"), "-out", _dir.File("signer.crt"));
        string[] expiry = expires is null ? [] : ["--sign-expires", expires];
        await CliAsync(["create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB", "--sign", _dir.File("signer.pem"), "--sign-cert", _dir.File("signer.crt"), .. expiry]);
        return image;
    }

    private static async Task OpenSslAsync(string openssl, params string[] args) =>
        (await ExternalProgram.RunAsync(openssl, args, Bound, cancellationToken: TestContext.Current.CancellationToken)).EnsureSuccess("openssl " + args[0]);

    /// <summary>Runs the command as a process and requires exit code 0.</summary>
    private static async Task<ProgramResult> CliAsync(params string[] args)
        => (await RunAsync(args)).EnsureSuccess("blocktorrent " + string.Join(' ', args));

    private static Task<ProgramResult> RunAsync(params string[] args)
        => ExternalProgram.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "BlockTorrent.Cli.dll"), .. args], Bound, cancellationToken: TestContext.Current.CancellationToken);
}

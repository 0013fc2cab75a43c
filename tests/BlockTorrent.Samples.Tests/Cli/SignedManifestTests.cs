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

    /// <summary>Runs the command as a process and requires exit code 0.</summary>
    private static async Task<ProgramResult> CliAsync(params string[] args)
        => (await RunAsync(args)).EnsureSuccess("blocktorrent " + string.Join(' ', args));

    private static Task<ProgramResult> RunAsync(params string[] args)
        => ExternalProgram.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "BlockTorrent.Cli.dll"), .. args], Bound, cancellationToken: TestContext.Current.CancellationToken);
}

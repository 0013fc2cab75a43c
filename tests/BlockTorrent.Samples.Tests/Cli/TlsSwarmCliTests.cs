using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

/// <summary><c>tls ca</c>, <c>tls issue</c>, <c>create --tls-ca</c>, <c>info</c> and <c>deploy --tls-cert</c>, each run as its own process.</summary>
public sealed class TlsSwarmCliTests : IDisposable
{
    private const int ImageLength = 2 << 20;
    private static readonly TimeSpan Bound = TimeSpan.FromMinutes(2);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ATlsSwarmMadeWithTheTlsCommandsDeploysBitExact()
    {
        await CliAsync("tls", "ca", "-o", _dir.File("ca.pem"));
        await CliAsync("tls", "issue", "--ca", _dir.File("ca.pem"), "-o", _dir.File("seed.pem"));
        await CliAsync("tls", "issue", "--ca", _dir.File("ca.pem"), "-o", _dir.File("target.pem"), "--name", "disk.img");
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB", "--tls-ca", _dir.File("ca.pem"));
        ProgramResult info = await CliAsync("info", _dir.File("disk.torrent"));
        using var seedCertificate = X509Certificate2.CreateFromPemFile(_dir.File("seed.pem"), _dir.File("seed.key.pem"));
        await using LibrarySeed seed = LibrarySeed.Start(_dir.File("disk.torrent"), image, peerCertificate: seedCertificate);

        ProgramResult deploy = await RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--peer", seed.EndPoint, "--listen", "127.0.0.1:0", "--tls-cert", _dir.File("target.pem"), "--timeout", "90s");

        Assert.True(deploy.ExitCode == 0, deploy.ToString());
        Assert.Equal(File.ReadAllBytes(image), File.ReadAllBytes(_dir.File("target.img")));
        Assert.Contains("tls swarm:        peers need a certificate signed by 'CN=BlockTorrent swarm authority'", info.StandardOutput, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_dir.File("ca.key.pem")));
        }
    }

    [Fact]
    public async Task DeployingATlsTorrentWithoutACertificateExitsTwoAndTheTargetIsNeverCreated()
    {
        await CliAsync("tls", "ca", "-o", _dir.File("ca.pem"));
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB", "--tls-ca", _dir.File("ca.pem"));

        ProgramResult deploy = await RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--peer", "127.0.0.1:9");

        Assert.True(deploy.ExitCode == 2, deploy.ToString());
        Assert.Contains("TLS torrent", deploy.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task DeployingWithACertificateOfAnotherAuthorityExitsThreeAndTheTargetIsNeverCreated()
    {
        await CliAsync("tls", "ca", "-o", _dir.File("ca.pem"));
        await CliAsync("tls", "ca", "-o", _dir.File("other.pem"));
        await CliAsync("tls", "issue", "--ca", _dir.File("other.pem"), "-o", _dir.File("stranger.pem"));
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        await CliAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB", "--tls-ca", _dir.File("ca.pem"));

        ProgramResult deploy = await RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--peer", "127.0.0.1:9", "--tls-cert", _dir.File("stranger.pem"));

        Assert.True(deploy.ExitCode == 3, deploy.ToString());
        Assert.Contains("not signed by the swarm's authority", deploy.StandardError, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    private static async Task<ProgramResult> CliAsync(params string[] args)
        => (await RunAsync(args)).EnsureSuccess("blocktorrent " + string.Join(' ', args));

    private static Task<ProgramResult> RunAsync(params string[] args)
        => ExternalProgram.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "BlockTorrent.Cli.dll"), .. args], Bound, cancellationToken: TestContext.Current.CancellationToken);
}

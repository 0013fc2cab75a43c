using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

public sealed class WebSeedCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task CreateWritesEachWebSeedIntoTheManifestsUrlList()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), 1 << 20);

        CliResult created = await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--web-seed", "https://depot:8580/images/", "--web-seed", "http://mirror/disk.img");

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal(["https://depot:8580/images/", "http://mirror/disk.img"], TorrentManifest.Load(_dir.File("disk.torrent")).WebSeeds);
    }

    [Fact]
    public async Task DeployRefusesAWebSeedThatIsNotAUrl()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), 1 << 20);
        Assert.Equal(0, (await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"))).ExitCode);

        CliResult deploy = await CliRun.RunAsync("deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--listen", "127.0.0.1:0", "--web-seed", "not a url");

        Assert.Equal(2, deploy.ExitCode);
        Assert.Contains("--web-seed", deploy.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }
}

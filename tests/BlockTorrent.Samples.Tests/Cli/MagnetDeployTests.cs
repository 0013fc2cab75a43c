using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

public sealed class MagnetDeployTests : IDisposable
{
    private const int ImageLength = 4 << 20;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task DeployFromAMagnetLinkFetchesTheManifestFromTheSeedAndMakesABitExactTarget()
    {
        string magnet = await CreateAsync();

        CliResult deploy;
        await using (LibrarySeed seed = LibrarySeed.Start(_dir.File("disk.torrent"), _dir.File("disk.img")))
        {
            deploy = await CliRun.RunAsync("deploy", magnet, "--target", _dir.File("target.img"), "--peer", seed.EndPoint, "--listen", "127.0.0.1:0", "--timeout", "2m");
        }

        Assert.True(deploy.ExitCode == 0, deploy.ToString());
        Assert.Contains("received the manifest of disk.img", deploy.Output, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(_dir.File("disk.img")), File.ReadAllBytes(_dir.File("target.img")));
        Assert.False(File.Exists(_dir.File("target.img") + ".blocktorrent-torrent"));
    }

    [Fact]
    public async Task AManifestSavedByAnEarlierRunIsUsedWithoutAskingPeers()
    {
        string magnet = await CreateAsync();
        File.Copy(_dir.File("disk.torrent"), _dir.File("target.img") + ".blocktorrent-torrent");

        CliResult result = await CliRun.RunAsync("deploy", magnet, "--target", _dir.File("target.img"), "--dry-run");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("to fetch at most:  32 pieces", result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AMagnetLinkNoPeerAnswersGivesUpAfterTheTimeoutWithSixNamingTheLink()
    {
        string magnet = await CreateAsync();

        CliResult result = await CliRun.RunAsync("deploy", magnet, "--target", _dir.File("target.img"), "--listen", $"127.0.0.1:{Ports.Free()}", "--timeout", "2s");

        Assert.Equal(6, result.ExitCode);
        Assert.Contains("metadata", result.Error, StringComparison.Ordinal);
        Assert.Contains("run the same command again", result.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AnInvalidMagnetLinkExitsWithThree()
    {
        CliResult result = await CliRun.RunAsync("deploy", "magnet:?dn=nothing", "--target", _dir.File("target.img"));

        Assert.Equal(3, result.ExitCode);
        Assert.Contains("not a valid magnet link", result.Error, StringComparison.Ordinal);
        Assert.False(File.Exists(_dir.File("target.img")));
    }

    [Fact]
    public async Task ADryRunFromAMagnetLinkWithoutASavedManifestIsAUsageError()
    {
        string magnet = await CreateAsync();

        CliResult result = await CliRun.RunAsync("deploy", magnet, "--target", _dir.File("target.img"), "--dry-run");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("--dry-run", result.Error, StringComparison.Ordinal);
    }

    /// <summary>Makes disk.img and disk.torrent (64 KiB pieces) and returns the torrent's magnet link.</summary>
    private async Task<string> CreateAsync()
    {
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        CliResult created = await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB");
        Assert.Equal(0, created.ExitCode);
        return MagnetLink.FromManifest(TorrentManifest.Load(_dir.File("disk.torrent"))).ToString();
    }
}

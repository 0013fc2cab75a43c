using System.Text.Json;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

public sealed class ReimageCliTests : IDisposable
{
    private const int PieceLength = 64 << 10;
    private const int Pieces = 64;

    // This month's image: pieces 3, 17 and 40 are new bytes, and pieces 10 and 50 hold what last month's 17 and 40 held.
    private static readonly int[] Changed = [3, 17, 40];
    private static readonly (int Piece, int From)[] Moved = [(10, 17), (50, 40)];

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task DeployWithPreviousFetchesOnlyTheChangedPiecesAndCopiesTheMovedOnes()
    {
        (string oldTorrent, string newTorrent, string newImage) = await ImagesAsync();
        File.Copy(_dir.File("old.img"), _dir.File("target.img"));

        CliResult deploy = await DeployAsync(newTorrent, newImage, "--previous", oldTorrent);

        Assert.True(deploy.ExitCode == 0, deploy.ToString());
        Assert.Equal(File.ReadAllBytes(newImage), File.ReadAllBytes(_dir.File("target.img")));
        JsonElement result = ResultOf(deploy);
        Assert.Equal(Changed.Length, result.GetProperty("piecesDownloaded").GetInt32());
        Assert.Equal(Moved.Length, result.GetProperty("piecesCopiedLocally").GetInt32());
        Assert.Contains("\"kind\":\"previous\"", deploy.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADeployRemembersItsManifestAndTheNextReimageOfTheTargetUsesItAsThePrevious()
    {
        (string oldTorrent, string newTorrent, string newImage) = await ImagesAsync();
        CliResult first = await DeployAsync(oldTorrent, _dir.File("old.img"));
        Assert.True(first.ExitCode == 0, first.ToString());

        Assert.Equal(TorrentManifest.Load(oldTorrent).InfoHashV2, TorrentManifest.Load(_dir.File("target.img") + ".blocktorrent-deployed.torrent").InfoHashV2);

        CliResult reimage = await DeployAsync(newTorrent, newImage);

        Assert.True(reimage.ExitCode == 0, reimage.ToString());
        Assert.Equal(File.ReadAllBytes(newImage), File.ReadAllBytes(_dir.File("target.img")));
        Assert.Contains("\"kind\":\"previous\"", reimage.Output, StringComparison.Ordinal);
        Assert.Equal(Changed.Length, ResultOf(reimage).GetProperty("piecesDownloaded").GetInt32());
        Assert.Equal(TorrentManifest.Load(newTorrent).InfoHashV2, TorrentManifest.Load(_dir.File("target.img") + ".blocktorrent-deployed.torrent").InfoHashV2);
    }

    [Fact]
    public async Task AnUnreadableRememberedManifestIsIgnoredWithAWarning()
    {
        (_, string newTorrent, string newImage) = await ImagesAsync();
        File.Copy(_dir.File("old.img"), _dir.File("target.img"));
        File.WriteAllText(_dir.File("target.img") + ".blocktorrent-deployed.torrent", "d4:infoi3ee");

        CliResult deploy = await DeployAsync(newTorrent, newImage);

        Assert.True(deploy.ExitCode == 0, deploy.ToString());
        Assert.Equal(File.ReadAllBytes(newImage), File.ReadAllBytes(_dir.File("target.img")));
        Assert.Contains("ignoring the manifest remembered", deploy.Error, StringComparison.Ordinal);
    }

    /// <summary>Seeds <paramref name="image"/> and deploys <paramref name="torrent"/> from it onto target.img with --json.</summary>
    private async Task<CliResult> DeployAsync(string torrent, string image, params string[] options)
    {
        await using LibrarySeed seed = LibrarySeed.Start(torrent, image);
        return await CliRun.RunAsync(["deploy", torrent, "--target", _dir.File("target.img"), "--peer", seed.EndPoint, "--listen", $"127.0.0.1:{Ports.Free()}", "--json", "--timeout", "2m", .. options]);
    }

    private static JsonElement ResultOf(CliResult deploy) => JsonDocument.Parse(deploy.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1]).RootElement;

    /// <summary>Writes last month's image (old.img) and this month's (new.img), each with its torrent.</summary>
    private async Task<(string OldTorrent, string NewTorrent, string NewImage)> ImagesAsync()
    {
        (byte[] old, byte[] now) = MonthlyImages.Make(Pieces, PieceLength, Changed, Moved, seed: 18);
        await File.WriteAllBytesAsync(_dir.File("old.img"), old, TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(_dir.File("new.img"), now, TestContext.Current.CancellationToken);
        Assert.Equal(0, (await CliRun.RunAsync("create", _dir.File("old.img"), "-o", _dir.File("old.torrent"), "--piece-size", "64KiB")).ExitCode);
        Assert.Equal(0, (await CliRun.RunAsync("create", _dir.File("new.img"), "-o", _dir.File("new.torrent"), "--piece-size", "64KiB")).ExitCode);
        return (_dir.File("old.torrent"), _dir.File("new.torrent"), _dir.File("new.img"));
    }
}

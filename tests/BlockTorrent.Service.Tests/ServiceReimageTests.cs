using System.Text.Json;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

public sealed class ServiceReimageTests : IDisposable
{
    private const int PieceLength = 64 << 10;
    private const int Pieces = 64;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    // This month's image: pieces 3, 17 and 40 are new bytes, and pieces 10 and 50 hold what last month's 17 and 40 held.
    private static readonly int[] Changed = [3, 17, 40];
    private static readonly (int Piece, int From)[] Moved = [(10, 17), (50, 40)];

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ATargetRemembersTheImageItDeployedAndItsNextReimageFetchesOnlyTheChangedPieces()
    {
        (byte[] old, byte[] now) = MonthlyImages.Make(Pieces, PieceLength, Changed, Moved, seed: 18);
        await DeployAsync("last-month", old);
        Assert.True(File.Exists(_dir.File("target.img") + ".blocktorrent-deployed.torrent"), "the target did not remember what it deployed");

        JsonElement result = await DeployAsync("this-month", now);

        Assert.Equal(Changed.Length, result.GetProperty("piecesDownloaded").GetInt32());
        Assert.Equal(Moved.Length, result.GetProperty("piecesCopiedLocally").GetInt32());
    }

    /// <summary>Serves <paramref name="image"/> from a depot and deploys it to target.img with a target service; returns the target's result.</summary>
    private async Task<JsonElement> DeployAsync(string folder, byte[] image)
    {
        string images = Directory.CreateDirectory(_dir.File(folder)).FullName;
        await File.WriteAllBytesAsync(Path.Combine(images, "disk.img"), image, TestContext.Current.CancellationToken);
        Dictionary<string, string?> depotSettings = ServiceInstance.Loopback("Depot");
        depotSettings["BlockTorrent:Depot:ImageFolder"] = images;
        depotSettings["BlockTorrent:Depot:PieceSize"] = PieceLength.ToString(System.Globalization.CultureInfo.InvariantCulture);
        depotSettings["BlockTorrent:Depot:SuperSeed"] = "false";
        await using ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, depotSettings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("disk.img", out var s) && s!.State == "seeding", Bound, "the depot seeds disk.img", TestContext.Current.CancellationToken);

        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = $"{depot.ManifestsUrl}/images/disk.img.torrent";
        settings["BlockTorrent:Target:Device"] = _dir.File("target.img");
        settings["BlockTorrent:StateDirectory"] = _dir.File("state");
        await using ServiceInstance target = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => target.Board.Target!.State == "seeding", Bound, "the target finishes and seeds", TestContext.Current.CancellationToken);

        Assert.Equal(image, File.ReadAllBytes(_dir.File("target.img")));
        return (await target.GetStatusAsync()).GetProperty("target").GetProperty("result");
    }
}

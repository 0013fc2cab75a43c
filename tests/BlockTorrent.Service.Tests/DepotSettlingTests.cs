using System.Text.Json;
using BlockTorrent.Manifest;
using BlockTorrent.Service.Depot;
using BlockTorrent.Testing;
using Microsoft.Extensions.Time.Testing;

namespace BlockTorrent.Service.Tests;

public sealed class DepotSettlingTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(30);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void AnImageSettlesOnlyOnceItHasNotChangedForTheSettleTime()
    {
        // The fake clock is years before the file's times, so only the watch since the depot saw it counts.
        var time = new FakeTimeProvider();
        var settling = new ImageSettling(time, Settle);
        string image = _dir.File("copying.img");
        File.WriteAllBytes(image, new byte[4096]);

        Assert.False(settling.HasSettled("copying.img", Stamps(image), out TimeSpan wait));
        Assert.Equal(Settle, wait);
        time.Advance(Settle - TimeSpan.FromSeconds(1));
        Assert.False(settling.HasSettled("copying.img", Stamps(image), out _));

        // More of it arrives: the watch starts again.
        using (var stream = new FileStream(image, FileMode.Append))
        {
            stream.Write(new byte[4096]);
        }

        Assert.False(settling.HasSettled("copying.img", Stamps(image), out wait));
        Assert.Equal(Settle, wait);
        time.Advance(Settle);
        Assert.True(settling.HasSettled("copying.img", Stamps(image), out _));
    }

    [Fact]
    public void AnImageLastChangedLongerAgoThanTheSettleTimeSettlesAtOnce()
    {
        string image = _dir.File("golden.img");
        File.WriteAllBytes(image, new byte[4096]);
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow + Settle + TimeSpan.FromMinutes(1));

        Assert.True(new ImageSettling(time, Settle).HasSettled("golden.img", Stamps(image), out _));
    }

    [Fact]
    public async Task AnInPlaceWriteThatKeepsTheLengthAndTheModificationTimeChangesTheStamp()
    {
        Requires.Linux();
        string image = _dir.File("golden.img");
        File.WriteAllBytes(image, new byte[65536]);
        FileStamp before = FileStamp.Read(image)!.Value;
        await AfterTheFileClockMovesPastAsync(before.LastChangeUtc);

        using (var stream = new FileStream(image, FileMode.Open, FileAccess.Write))
        {
            stream.Position = 4096;
            stream.Write(new byte[] { 1, 2, 3, 4 });
        }

        File.SetLastWriteTimeUtc(image, before.LastWriteUtc);
        FileStamp after = FileStamp.Read(image)!.Value;

        Assert.Equal((before.Length, before.LastWriteUtc, before.Identity), (after.Length, after.LastWriteUtc, after.Identity));
        Assert.NotEqual(before, after);
    }

    [Fact]
    public void AFileRenamedOverTheImageWithTheSameLengthAndModificationTimeChangesTheStamp()
    {
        Requires.Linux();
        string image = _dir.File("golden.img");
        string copy = _dir.File(".golden.img.partial");
        File.WriteAllBytes(image, new byte[65536]);
        File.WriteAllBytes(copy, Enumerable.Repeat((byte)7, 65536).ToArray());
        FileStamp before = FileStamp.Read(image)!.Value;
        File.SetLastWriteTimeUtc(copy, before.LastWriteUtc);

        // What rsync -t does: a new file with the old time, renamed over the image.
        File.Move(copy, image, overwrite: true);

        Assert.NotEqual(before.Identity, FileStamp.Read(image)!.Value.Identity);
    }

    [Fact]
    public void AMissingFileHasNoStamp() => Assert.Null(FileStamp.Read(_dir.File("nothing.img")));

    [Fact]
    public async Task ADepotNeitherHashesNorServesAnImageThatHasNotSettled()
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await new TestImage { Length = 1 << 20 }.WriteFileAsync(Path.Combine(images, "new.img"), TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        settings["BlockTorrent:Depot:SettleTime"] = "01:00:00";
        await using ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);

        await Eventually.TrueAsync(() => depot.Board.TryGetImage("new.img", out var s) && s!.State == "settling", Bound, "the depot shows new.img settling", TestContext.Current.CancellationToken);
        Assert.False(File.Exists(Path.Combine(images, "new.img.torrent")), "a manifest was made of an image that may still be copied in");
    }

    [Fact]
    public async Task AnImageChangedInPlaceKeepingItsLengthAndModificationTimeIsServedAgainUnderANewManifest()
    {
        Requires.Linux();
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        string image = Path.Combine(images, "golden.img");
        await new TestImage { Length = 4 << 20 }.WriteFileAsync(image, TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        settings["BlockTorrent:Depot:RescanInterval"] = "00:00:01";
        await using ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => State(depot) == "seeding", Bound, "the depot seeds golden.img", TestContext.Current.CancellationToken);
        string first = InfoHash(depot);
        FileStamp before = FileStamp.Read(image)!.Value;
        await AfterTheFileClockMovesPastAsync(before.LastChangeUtc);

        // golden.img updated in place: 1 MiB overwritten, its modification time set back.
        using (var stream = new FileStream(image, FileMode.Open, FileAccess.Write))
        {
            stream.Position = 1 << 20;
            stream.Write(Enumerable.Repeat((byte)0x5A, 1 << 20).ToArray());
        }

        File.SetLastWriteTimeUtc(image, before.LastWriteUtc);

        await Eventually.TrueAsync(() => State(depot) == "seeding" && InfoHash(depot) != first, Bound, "the depot serves golden.img under a new manifest", TestContext.Current.CancellationToken);
        TorrentManifest remade = TorrentManifest.Load(image + ".torrent");
        TorrentManifest expected = await ManifestBuilder.CreateAsync(image, new ManifestBuilderOptions { PieceLength = remade.PieceLength }, TestContext.Current.CancellationToken);
        Assert.Equal(expected.PiecesRoot.ToArray(), remade.PiecesRoot.ToArray());
    }

    private static ImageStamps Stamps(string image) => ImageStamps.Read(image, image + ".torrent");

    private static string? State(ServiceInstance depot) => depot.Board.TryGetImage("golden.img", out var s) ? s!.State : null;

    private static string InfoHash(ServiceInstance depot) =>
        JsonDocument.Parse(depot.Board.ToJson()).RootElement.GetProperty("images")[0].GetProperty("infoHash").GetString() ?? string.Empty;

    // File times come from a coarse clock: a write within the same tick as the last one could carry the same ctime.
    private async Task AfterTheFileClockMovesPastAsync(DateTime lastChange)
    {
        string probe = _dir.File(".clock");
        await Eventually.TrueAsync(
            () =>
            {
                File.WriteAllBytes(probe, [1]);
                return FileStamp.Read(probe)!.Value.LastChangeUtc > lastChange;
            },
            TimeSpan.FromSeconds(10),
            "the file system's clock to move past the last change",
            TestContext.Current.CancellationToken);
    }
}

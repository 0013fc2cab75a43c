using System.Security.Cryptography;
using System.Text;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>The depot's embedded tracker serves the depot's own images, not the LAN's other swarms.</summary>
public sealed class DepotTrackerTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ADepotsTrackerTracksItsOwnImagesAndRefusesAnyOtherTorrent()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using ServiceInstance depot = await StartDepotAsync(trackAny: false, ct);
        TorrentManifest manifest = await TorrentManifest.LoadAsync(Path.Combine(_dir.File("images"), "disk.img.torrent"), ct);

        string own = await AnnounceAsync(depot, manifest.InfoHashV1!.Value.Span.ToArray(), ct);
        string other = await AnnounceAsync(depot, RandomNumberGenerator.GetBytes(20), ct);

        Assert.DoesNotContain("failure reason", own, StringComparison.Ordinal);
        Assert.Contains("failure reason", other, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ADepotsTrackerTracksAnyTorrentWhenTheSettingOpensIt()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using ServiceInstance depot = await StartDepotAsync(trackAny: true, ct);

        string other = await AnnounceAsync(depot, RandomNumberGenerator.GetBytes(20), ct);

        Assert.DoesNotContain("failure reason", other, StringComparison.Ordinal);
    }

    private async Task<ServiceInstance> StartDepotAsync(bool trackAny, CancellationToken ct)
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await new TestImage { Length = 1 << 20 }.WriteFileAsync(Path.Combine(images, "disk.img"), ct);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        settings["BlockTorrent:Depot:TrackAnyTorrent"] = trackAny ? "true" : "false";
        ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("disk.img", out var s) && s!.State == "seeding", Bound, "the depot seeds disk.img", ct);
        return depot;
    }

    private static async Task<string> AnnounceAsync(ServiceInstance depot, byte[] infoHash, CancellationToken ct)
    {
        string query = $"info_hash={Escape(infoHash)}&peer_id={Escape(RandomNumberGenerator.GetBytes(20))}&port=7001&left=1&compact=1";
        byte[] body = await Http.GetByteArrayAsync($"{depot.Board.TrackerAnnounce}?{query}", ct);
        return Encoding.Latin1.GetString(body);
    }

    private static string Escape(byte[] bytes) => string.Concat(bytes.Select(b => $"%{b:X2}"));
}

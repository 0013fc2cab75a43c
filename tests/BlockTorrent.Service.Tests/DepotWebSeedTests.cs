using System.Net;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>The depot as a web seed (BEP 19): each image's bytes by HTTP range requests at <c>/images/NAME</c>.</summary>
public sealed class DepotWebSeedTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    // libtorrent with nothing but the torrent's web seed: no tracker, DHT, LSD or peers.
    private const string LibtorrentDownload = """
        import sys, time, libtorrent as lt
        torrent, save = sys.argv[1:3]
        s = lt.session({'listen_interfaces': '127.0.0.1:0', 'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False})
        h = s.add_torrent({'ti': lt.torrent_info(torrent), 'save_path': save})
        deadline = time.time() + 60
        while not h.status().is_seeding:
            if time.time() > deadline:
                print('timed out at', h.status().progress, [a.message() for a in s.pop_alerts()])
                sys.exit(1)
            time.sleep(0.1)
        print('done', h.status().total_payload_download)
        """;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task TheDepotServesAnImagesBytesByRangeAndNothingThatIsNotAnImage()
    {
        byte[] image = new TestImage { Length = 1 << 20, Seed = 51 }.ToArray();
        await using ServiceInstance depot = await StartDepotAsync(image, https: true);
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });

        using var request = new HttpRequestMessage(HttpMethod.Get, $"{depot.ManifestsUrl}/images/disk.img");
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(1000, 1999);
        using HttpResponseMessage response = await http.SendAsync(request, TestContext.Current.CancellationToken);
        using HttpResponseMessage missing = await http.GetAsync($"{depot.ManifestsUrl}/images/other.img", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(image.AsSpan(1000, 1000).ToArray(), await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task TheDepotsWebSeedServesNoByteOfATlsSwarmsImage()
    {
        byte[] image = new TestImage { Length = 1 << 20, Seed = 53 }.ToArray();
        await using ServiceInstance depot = await StartDepotAsync(image, https: true, ("Depot:TlsSwarm", "true"));
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });

        using HttpResponseMessage bytes = await http.GetAsync($"{depot.ManifestsUrl}/images/disk.img", TestContext.Current.CancellationToken);
        using HttpResponseMessage manifest = await http.GetAsync($"{depot.ManifestsUrl}/images/disk.img.torrent", TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, bytes.StatusCode);
        Assert.NotNull(TorrentManifest.Parse(await manifest.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken)).SwarmAuthority);
    }

    [Fact]
    public async Task LibtorrentDownloadsAnImageBitExactFromTheDepotAsItsOnlyWebSeed()
    {
        Requires.PythonLibtorrent();
        byte[] image = new TestImage { Length = (2 * 1024 * 1024) + 777, Seed = 52 }.ToArray();
        await using ServiceInstance depot = await StartDepotAsync(image, https: false);
        var options = new ManifestBuilderOptions { PieceLength = 64 * 1024, Name = "disk.img" };
        options.WebSeeds.Add($"{depot.ManifestsUrl}/images/");
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(_dir.File("images/disk.img"), options, TestContext.Current.CancellationToken);
        string torrent = _dir.File("webseed.torrent");
        await manifest.SaveAsync(torrent, TestContext.Current.CancellationToken);
        string save = Directory.CreateDirectory(_dir.File("libtorrent")).FullName;

        ProgramResult download = await ExternalProgram.RunAsync("/usr/bin/python3", ["-c", LibtorrentDownload, torrent, save], Bound, cancellationToken: TestContext.Current.CancellationToken);

        Assert.True(download.ExitCode == 0, download.ToString());
        Assert.Equal(image, await File.ReadAllBytesAsync(Path.Combine(save, "disk.img"), TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData("Depot:MaxUploadRatePerImage")]
    [InlineData("MaxUploadRate")]
    public async Task TheDepotsWebSeedIsHeldToTheUploadCapItsPeersObey(string setting)
    {
        const int Rate = 1024 * 1024;
        byte[] image = new TestImage { Length = 3 * Rate, Seed = 53 }.ToArray();
        await using ServiceInstance depot = await StartDepotAsync(image, https: false, (setting, Rate.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        using var http = new HttpClient();

        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        byte[] served = await http.GetByteArrayAsync($"{depot.ManifestsUrl}/images/disk.img", TestContext.Current.CancellationToken);
        TimeSpan took = System.Diagnostics.Stopwatch.GetElapsedTime(started);

        // A full bucket lets a tenth of a second's worth go at once; the rest waits for the cap (about 2.9 s here).
        Assert.Equal(image, served);
        Assert.True(took >= TimeSpan.FromSeconds(2.5), $"the web seed served {image.Length} bytes in {took} under {setting} = {Rate}");
    }

    private async Task<ServiceInstance> StartDepotAsync(byte[] image, bool https, params (string Key, string Value)[] extra)
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(images, "disk.img"), image, TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        settings["BlockTorrent:Depot:Https"] = https ? "true" : "false";

        // Opts out of TLS swarms, whose images the web seed does not serve (see the test that says so).
        settings["BlockTorrent:Depot:TlsSwarm"] = "false";
        foreach ((string key, string value) in extra)
        {
            settings["BlockTorrent:" + key] = value;
        }

        ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("disk.img", out var s) && s!.State == "seeding", Bound, "the depot seeds disk.img", TestContext.Current.CancellationToken);
        return depot;
    }
}

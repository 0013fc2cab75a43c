using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>
/// The library's meter as Prometheus scrapes it from the service. The instruments are process-wide, so this
/// collection runs alone: no other test's transfers move the counters it reads.
/// </summary>
[Collection(nameof(MetricsCollection))]
public sealed partial class ServiceMetricsTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ADepotsPrometheusEndpointShowsTheBytesItServesGrowingWhileADeploymentRuns()
    {
        const int PieceSize = 64 * 1024;
        var image = new TestImage { Length = 32 << 20, Seed = 21, ZeroRunPercent = 0, ZeroBlockPercent = 0, RepeatBlockPercent = 0 };
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await image.WriteFileAsync(Path.Combine(images, "disk.img"), TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        settings["BlockTorrent:Depot:PieceSize"] = PieceSize.ToString(CultureInfo.InvariantCulture);
        await using ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("disk.img", out var s) && s!.State == "seeding", Bound, "the depot seeds disk.img", TestContext.Current.CancellationToken);
        TorrentManifest manifest = TorrentManifest.Load(_dir.File("images/disk.img.torrent"));

        // A target whose device lets writes through only when the test says, with 1 MiB of download memory: it can
        // receive about that much more than it has written, so the deployment cannot end while the test reads.
        // It holds a certificate of the depot's swarm authority, as an operator would issue one.
        await using var device = new GatedWriteDevice(new MemoryBlockDevice(image.Length));
        using X509Certificate2 certificate = DepotAuthority.Issue(_dir.File("depot-state"));
        await using var client = new BlockTorrentClient(new BlockTorrentClientOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), DownloadMemory = 1 << 20, PeerCertificate = certificate });
        var options = new DeployOptions { UseManifestTrackers = false };
        options.Peers.Add(IPEndPoint.Parse(depot.Board.PeerEndPoint!));
        Task<DeploymentResult> deployment = client.DeployAsync(manifest, device, options, cancellationToken: TestContext.Current.CancellationToken);

        long first = 0;
        await Eventually.TrueAsync(() => (first = ScrapeBytesUploaded(depot)) > 0, Bound, "the scrape shows the depot's first bytes out", TestContext.Current.CancellationToken);
        long second = first;
        await Eventually.TrueAsync(
            () =>
            {
                device.Allow();
                second = ScrapeBytesUploaded(depot);
                return second > first;
            },
            Bound,
            "a later scrape shows more bytes out",
            TestContext.Current.CancellationToken);
        Assert.False(deployment.IsCompleted, "the deployment was still running when the second scrape was read");
        Assert.True(second < image.Length, $"{second} bytes out by the second scrape, of {image.Length}");

        device.Open();
        DeploymentResult result = await deployment.WaitAsync(Bound, TestContext.Current.CancellationToken);
        Assert.Equal(image.Length, result.BytesDownloaded);
        await Eventually.TrueAsync(() => ScrapeBytesUploaded(depot) >= image.Length, Bound, "the scrape shows the whole image served", TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AServiceWithNoMetricsAddressAnswersNoScrape()
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        settings["BlockTorrent:Metrics"] = "";
        await using ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);

        using HttpResponseMessage response = await Http.GetAsync(depot.Url + "/metrics", TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    /// <summary>Reads <c>GET /metrics</c> and sums the samples of <c>blocktorrent.bytes.uploaded</c> (the exporter names it <c>blocktorrent_bytes_uploaded_bytes_total</c>).</summary>
    private static long ScrapeBytesUploaded(ServiceInstance service)
    {
        string text = Http.GetStringAsync(service.MetricsUrl + "/metrics", TestContext.Current.CancellationToken).GetAwaiter().GetResult();
        double total = 0;
        foreach (Match sample in BytesUploadedSample().Matches(text))
        {
            total += double.Parse(sample.Groups["value"].Value, CultureInfo.InvariantCulture);
        }

        return (long)total;
    }

    [GeneratedRegex(@"^blocktorrent_bytes_uploaded\w*(\{[^}]*\})?\s+(?<value>[0-9.eE+]+)", RegexOptions.Multiline)]
    private static partial Regex BytesUploadedSample();
}

/// <summary>The tests that read the process-wide counters, run while no other test runs.</summary>
[CollectionDefinition(nameof(MetricsCollection), DisableParallelization = true)]
public sealed class MetricsCollection;

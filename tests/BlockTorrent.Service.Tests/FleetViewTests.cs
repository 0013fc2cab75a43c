using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>The depot's fleet view: a row per target from its swarm and its targets' reports, the event stream, the webhooks.</summary>
public sealed class FleetViewTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task ADepotShowsTwoTargetServicesReachingDoneAndStreamsTheirEventsThenTheImageDeployed()
    {
        var image = new TestImage { Length = 4 << 20, Seed = 31 };
        await using ServiceInstance depot = await FleetServices.StartDepotAsync(_dir, image, new() { ["BlockTorrent:Depot:FleetSize"] = "2" });
        using var stream = new EventStream(depot.FleetUrl + "/fleet/events");
        await stream.WaitForAsync("fleet");

        await using ServiceInstance first = await FleetServices.StartTargetAsync(_dir, depot, "target1.img");
        await using ServiceInstance second = await FleetServices.StartTargetAsync(_dir, depot, "target2.img");
        await first.Stopped;
        await second.Stopped;
        JsonElement deployed = await stream.WaitForAsync("image-deployed");

        Assert.Equal("disk.img", deployed.GetProperty("image").GetString());
        Assert.Equal(2, deployed.GetProperty("done").GetInt32());
        Assert.Equal(0, deployed.GetProperty("failed").GetInt32());
        Assert.Single(stream.Received("image-deployed"));
        JsonElement[] done = stream.Received("target-done");
        Assert.Equal(2, done.Length);
        Assert.Equal(2, done.Select(e => e.GetProperty("target").GetProperty("peerId").GetString()).Distinct().Count());

        JsonElement fleet = await GetFleetAsync(depot);
        JsonElement[] rows = [.. fleet.GetProperty("targets").EnumerateArray().Where(r => r.GetProperty("reporting").GetBoolean())];
        Assert.Equal(2, rows.Length);
        int pieceCount = TorrentManifest.Load(_dir.File("images/disk.img.torrent")).PieceCount;
        foreach (JsonElement row in rows)
        {
            Assert.Equal("done", row.GetProperty("state").GetString());
            Assert.Equal(100, row.GetProperty("percent").GetDouble());
            Assert.Equal(Dns.GetHostName(), row.GetProperty("host").GetString());
            Assert.Equal("127.0.0.1", row.GetProperty("address").GetString());
            Assert.Equal(pieceCount, row.GetProperty("piecesFromPeers").GetInt32() + row.GetProperty("piecesLocal").GetInt32());
            Assert.Equal(JsonValueKind.Null, row.GetProperty("error").ValueKind);
        }

        JsonElement imageRow = fleet.GetProperty("images")[0];
        Assert.True(imageRow.GetProperty("deployed").GetBoolean(), imageRow.ToString());
    }

    [Fact]
    public async Task ADepotShowsATargetThatSendsNoReportsFromThePiecesItAnnouncesDownloadingThenSeedingThenDone()
    {
        var image = new TestImage { Length = 8 << 20, Seed = 33, ZeroRunPercent = 0, ZeroBlockPercent = 0, RepeatBlockPercent = 0 };
        await using ServiceInstance depot = await FleetServices.StartDepotAsync(_dir, image);
        TorrentManifest manifest = TorrentManifest.Load(_dir.File("images/disk.img.torrent"));

        // A plain library client (no service, so no reports) whose writes the test lets through, and which seeds once
        // complete until the test stops it.
        // It does not enrol: it holds a certificate of the depot's swarm authority, as an operator would issue one.
        await using var device = new GatedWriteDevice(new MemoryBlockDevice(image.Length));
        using X509Certificate2 certificate = DepotAuthority.Issue(_dir.File("depot-state"));
        await using var client = new BlockTorrentClient(new BlockTorrentClientOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), DownloadMemory = 1 << 20, PeerCertificate = certificate });
        var options = new DeployOptions { UseManifestTrackers = false, SeedAfter = TimeSpan.FromHours(1) };
        options.Peers.Add(IPEndPoint.Parse(depot.Board.PeerEndPoint!));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        Task<DeploymentResult> deployment = client.DeployAsync(manifest, device, options, cancellationToken: stop.Token);
        string peerId = Convert.ToHexStringLower(client.PeerId.Span);

        JsonElement row = default;
        await Eventually.TrueAsync(
            () =>
            {
                device.Allow();
                row = Row(GetFleetAsync(depot).GetAwaiter().GetResult(), peerId);
                return row.ValueKind == JsonValueKind.Object && row.GetProperty("percent").GetDouble() > 0;
            },
            Bound,
            "the depot shows the target's first pieces",
            TestContext.Current.CancellationToken);
        Assert.False(deployment.IsCompleted);
        Assert.Equal("downloading", row.GetProperty("state").GetString());
        await Eventually.TrueAsync(
            () =>
            {
                device.Allow();
                return GetFleetAsync(depot).GetAwaiter().GetResult().GetProperty("history").EnumerateArray().Any(p => p[1].GetDouble() > 0);
            },
            Bound,
            "the swarm's total rate moves off zero",
            TestContext.Current.CancellationToken);
        Assert.False(deployment.IsCompleted);
        Assert.True(row.GetProperty("percent").GetDouble() < 100, row.ToString());
        Assert.False(row.GetProperty("reporting").GetBoolean());
        Assert.Equal("127.0.0.1", row.GetProperty("address").GetString());
        Assert.Equal(client.LocalEndPoint.Port, row.GetProperty("port").GetInt32());
        Assert.Equal(JsonValueKind.Null, row.GetProperty("host").ValueKind);

        device.Open();
        await Eventually.TrueAsync(() => Row(GetFleetAsync(depot).GetAwaiter().GetResult(), peerId).GetProperty("state").GetString() == "seeding", Bound, "the depot shows the target seeding once it has every piece", TestContext.Current.CancellationToken);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => deployment.WaitAsync(Bound, TestContext.Current.CancellationToken));
        await Eventually.TrueAsync(() => Row(GetFleetAsync(depot).GetAwaiter().GetResult(), peerId).GetProperty("state").GetString() == "done", Bound, "the depot shows the target done once it left with every piece", TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task AWebhookThatFailsAtFirstGetsTheTargetDoneAndImageDeployedEventsOnARetry()
    {
        await using var receiver = await WebhookReceiver.StartAsync(failFirst: 1);
        var image = new TestImage { Length = 2 << 20, Seed = 35 };
        await using ServiceInstance depot = await FleetServices.StartDepotAsync(_dir, image, new()
        {
            ["BlockTorrent:Depot:Webhooks:0"] = receiver.Url,
            ["BlockTorrent:Depot:WebhookRetryDelay"] = "00:00:00.200",
        });

        await using ServiceInstance target = await FleetServices.StartTargetAsync(_dir, depot, "target.img");
        await target.Stopped;

        await Eventually.TrueAsync(() => receiver.Accepted.Any(d => d.Event == "image-deployed"), Bound, "the webhook gets image-deployed", TestContext.Current.CancellationToken);
        WebhookReceiver.Delivery[] all = receiver.All;
        Assert.Equal(HttpStatusCode.ServiceUnavailable, all[0].Answer);
        Assert.Equal("target-done", all[0].Event);
        Assert.Equal(all[0].DeliveryId, all[1].DeliveryId);
        Assert.Equal(HttpStatusCode.OK, all[1].Answer);
        Assert.Equal(["target-done", "image-deployed"], receiver.Accepted.Select(d => d.Event));
        using JsonDocument done = JsonDocument.Parse(receiver.Accepted[0].Body);
        Assert.Equal("done", done.RootElement.GetProperty("target").GetProperty("state").GetString());
        Assert.Equal("disk.img", done.RootElement.GetProperty("target").GetProperty("image").GetString());
    }

    [Fact]
    public async Task ATargetThatFailsIsShownFailedWithItsErrorAndAnnouncedToTheStream()
    {
        await using ServiceInstance depot = await FleetServices.StartDepotAsync(_dir, new TestImage { Length = 1 << 20, Seed = 37 });
        using var stream = new EventStream(depot.FleetUrl + "/fleet/events");
        await stream.WaitForAsync("fleet");

        // A target pinned to another image's info-hash refuses the manifest before it opens its device.
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = $"{depot.ManifestsUrl}/images/disk.img.torrent";
        settings["BlockTorrent:Target:Device"] = _dir.File("target.img");
        settings["BlockTorrent:StateDirectory"] = _dir.File("state");
        settings["BlockTorrent:Target:InfoHash"] = new string('a', 40);
        await using ServiceInstance target = await ServiceInstance.StartAsync(_dir.Path, settings);
        await target.Stopped;

        JsonElement failed = (await stream.WaitForAsync("target-failed")).GetProperty("target");
        Assert.Equal("failed", failed.GetProperty("state").GetString());
        Assert.Contains("aaaaaaaa", failed.GetProperty("error").GetString(), StringComparison.Ordinal);
        JsonElement row = (await GetFleetAsync(depot)).GetProperty("targets")[0];
        Assert.Equal("failed", row.GetProperty("state").GetString());
        Assert.Equal(failed.GetProperty("error").GetString(), row.GetProperty("error").GetString());
        Assert.Empty(stream.Received("image-deployed"));
    }

    [Fact]
    public async Task ATargetReportsWithTheDepotsStatusTokenWhenTheManifestsShareTheStatusPort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        await using ServiceInstance depot = await FleetServices.StartDepotAsync(_dir, new TestImage { Length = 1 << 20, Seed = 39 }, new()
        {
            ["BlockTorrent:Status"] = $"127.0.0.1:{port}",
            ["BlockTorrent:Depot:Manifests"] = $"127.0.0.1:{port}",
            ["BlockTorrent:StatusToken"] = "fleet-secret",
        });

        await using ServiceInstance target = await FleetServices.StartTargetAsync(_dir, depot, "target.img", new() { ["BlockTorrent:Target:ReportToken"] = "fleet-secret" });
        await target.Stopped;

        await Eventually.TrueAsync(() => GetFleetAsync(depot, "fleet-secret").GetAwaiter().GetResult().GetProperty("targets").EnumerateArray().Any(r => r.GetProperty("reporting").GetBoolean() && r.GetProperty("state").GetString() == "done"), Bound, "the depot shows the target's report", TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task ADepotKeepsNoReportAboutAnImageItDoesNotServe()
    {
        await using ServiceInstance depot = await FleetServices.StartDepotAsync(_dir, new TestImage { Length = 1 << 20 });
        string report = """{"peerId":"2d425430313030","infoHash":"0000000000000000000000000000000000000000","state":"downloading"}""";

        var trust = ServerTrust.Create(TestCertificates.Shared.Certificate, null);
        using var https = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (request, certificate, chain, errors) => trust.Validate(certificate, chain, errors, out _) });
        using HttpResponseMessage unknown = await https.PostAsync(depot.ManifestsUrl + "/fleet/report", new StringContent(report, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
        using HttpResponseMessage malformed = await https.PostAsync(depot.ManifestsUrl + "/fleet/report", new StringContent("{\"state\":1}", Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(0, (await GetFleetAsync(depot)).GetProperty("targets").GetArrayLength());
    }

    private static JsonElement Row(JsonElement fleet, string peerId) =>
        fleet.GetProperty("targets").EnumerateArray().FirstOrDefault(r => r.GetProperty("peerId").GetString() == peerId);

    private static async Task<JsonElement> GetFleetAsync(ServiceInstance depot, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, depot.FleetUrl + "/fleet");
        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        using HttpResponseMessage response = await Http.SendAsync(request, TestContext.Current.CancellationToken);
        string text = await response.EnsureSuccessStatusCode().Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return JsonDocument.Parse(text).RootElement.Clone();
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using BlockTorrent.Testing;
using Microsoft.Extensions.Options;

namespace BlockTorrent.Service.Tests;

/// <summary>What a LAN host can do to the service's HTTP endpoints: read the status without its token, or tie Kestrel up.</summary>
public sealed class ServiceHttpLimitTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("BlockTorrent:Status")]
    [InlineData("BlockTorrent:Metrics")]
    [InlineData("BlockTorrent:Depot:Fleet")]
    public async Task AStatusBoundBeyondLoopbackWithoutATokenStopsTheServiceAtStart(string setting)
    {
        Dictionary<string, string?> settings = DepotSettings();
        settings[setting] = "0.0.0.0:0";

        OptionsValidationException e = await Assert.ThrowsAsync<OptionsValidationException>(() => ServiceInstance.StartAsync(_dir.Path, settings));

        Assert.Contains(e.Failures, f => f.Contains(setting, StringComparison.Ordinal) && f.Contains("StatusToken", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithATokenTheStatusAnswersOnlyRequestsThatCarryItAndTheManifestsStayOpen()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        int port = FreePort();
        Dictionary<string, string?> settings = DepotSettings();
        settings["BlockTorrent:Status"] = $"0.0.0.0:{port}";
        settings["BlockTorrent:Metrics"] = $"0.0.0.0:{port}";
        settings["BlockTorrent:Depot:Manifests"] = $"0.0.0.0:{port}";
        settings["BlockTorrent:Depot:Https"] = "false";
        settings["BlockTorrent:StatusToken"] = "s3cret-token";
        await using ServiceInstance depot = await StartSeedingAsync(settings, ct);
        string url = $"http://127.0.0.2:{port}";

        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync($"{url}/status", token: null, ct));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync($"{url}/", token: "wrong", ct));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync($"{url}/metrics", token: null, ct));
        Assert.Equal(HttpStatusCode.OK, await GetAsync($"{url}/status", token: "s3cret-token", ct));
        Assert.Equal(HttpStatusCode.OK, await GetAsync($"{url}/metrics", token: "s3cret-token", ct));
        Assert.Equal(HttpStatusCode.OK, await GetAsync($"{url}/images/disk.img.torrent", token: null, ct));
    }

    [Fact]
    public async Task WithATokenTheFleetViewAndItsEventsAnswerOnlyRequestsThatCarryItAndABrowserKeepsItInACookie()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        int port = FreePort();
        Dictionary<string, string?> settings = DepotSettings();
        settings["BlockTorrent:Depot:Fleet"] = $"0.0.0.0:{port}";
        settings["BlockTorrent:StatusToken"] = "s3cret-token";
        await using ServiceInstance depot = await StartSeedingAsync(settings, ct);
        string url = $"http://127.0.0.2:{port}";

        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync($"{url}/fleet", token: null, ct));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync($"{url}/fleet/events", token: null, ct));
        Assert.Equal(HttpStatusCode.Unauthorized, await GetAsync($"{url}/fleet/?token=wrong", token: null, ct));
        Assert.Equal(HttpStatusCode.OK, await GetAsync($"{url}/fleet", token: "s3cret-token", ct));

        // A browser opens the page once with ?token=: it gets a cookie for this server and the address without the token.
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false });
        using HttpResponseMessage redirect = await browser.GetAsync($"{url}/fleet/?token=s3cret-token&format=json", ct);
        Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
        Assert.Equal("/fleet/?format=json", redirect.Headers.Location!.OriginalString);
        Cookie cookie = Assert.Single(cookies.GetCookies(new Uri(url)));
        Assert.True(cookie.HttpOnly);
        using HttpResponseMessage page = await browser.GetAsync($"{url}/fleet?format=json", ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }

    [Fact]
    public async Task WithATokenATargetReportWithoutItIsRefusedAndAddsNoRow()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        int port = FreePort();
        Dictionary<string, string?> settings = DepotSettings();
        settings["BlockTorrent:Depot:Manifests"] = $"0.0.0.0:{port}";
        settings["BlockTorrent:Depot:Https"] = "false";
        settings["BlockTorrent:StatusToken"] = "s3cret-token";
        await using ServiceInstance depot = await StartSeedingAsync(settings, ct);
        var manifest = BlockTorrent.Manifest.TorrentManifest.Load(_dir.File("images/disk.img.torrent"));
        string report = $$"""{"peerId":"2d4254303130","infoHash":"{{manifest.InfoHashV1!.Value.ToHex()}}","state":"downloading","host":"forged"}""";
        using var http = new HttpClient();

        using HttpResponseMessage forged = await http.PostAsync($"http://127.0.0.2:{port}/fleet/report", new StringContent(report, System.Text.Encoding.UTF8, "application/json"), ct);
        using var signed = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.2:{port}/fleet/report") { Content = new StringContent(report.Replace("forged", "genuine", StringComparison.Ordinal), System.Text.Encoding.UTF8, "application/json") };
        signed.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret-token");
        using HttpResponseMessage genuine = await http.SendAsync(signed, ct);

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, genuine.StatusCode);
        string fleet = System.Text.Encoding.UTF8.GetString(depot.Fleet.ToJson());
        Assert.Contains("genuine", fleet, StringComparison.Ordinal);
        Assert.DoesNotContain("forged", fleet, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ARequestHeadLargerThanTheLimitIsRefused()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using ServiceInstance depot = await StartSeedingAsync(DepotSettings(), ct);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{depot.Url}/status");
        request.Headers.Add("X-Padding", new string('a', 16 * 1024));
        using var http = new HttpClient();

        using HttpResponseMessage response = await http.SendAsync(request, ct);

        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task OneAddressHoldingManyConnectionsGetsNoMoreThanItsShareAndOthersAreStillServed()
    {
        CancellationToken ct = TestContext.Current.CancellationToken;
        await using ServiceInstance depot = await StartSeedingAsync(DepotSettings(), ct);
        var endPoint = IPEndPoint.Parse(new Uri(depot.Url).Authority);
        var held = new List<Socket>();
        try
        {
            for (int i = 0; i < 100; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                held.Add(socket);
                socket.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.3"), 0));
                try
                {
                    await socket.ConnectAsync(endPoint, ct);
                }
                catch (SocketException)
                {
                    // Reset while connecting: closed by the service as surely as after.
                }
            }

            // Kestrel closes the connections beyond the address's share; the first ones wait for their request.
            await Eventually.TrueAsync(() => held.Count(IsClosedByPeer) >= 100 - 32, TimeSpan.FromSeconds(20), "connections beyond the address's share are closed", ct);
            Assert.Equal(HttpStatusCode.OK, await GetAsync($"{depot.Url}/status", token: null, ct));
        }
        finally
        {
            held.ForEach(s => s.Dispose());
        }
    }

    private static bool IsClosedByPeer(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead) && socket.Receive(new byte[1], SocketFlags.Peek) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    private Dictionary<string, string?> DepotSettings()
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = Directory.CreateDirectory(_dir.File("images")).FullName;
        return settings;
    }

    private async Task<ServiceInstance> StartSeedingAsync(Dictionary<string, string?> settings, CancellationToken ct)
    {
        await new TestImage { Length = 1 << 20 }.WriteFileAsync(Path.Combine(_dir.File("images"), "disk.img"), ct);
        ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("disk.img", out var s) && s!.State == "seeding", Bound, "the depot seeds disk.img", ct);
        return depot;
    }

    private static async Task<HttpStatusCode> GetAsync(string url, string? token, CancellationToken ct)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using HttpResponseMessage response = await http.SendAsync(request, ct);
        return response.StatusCode;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

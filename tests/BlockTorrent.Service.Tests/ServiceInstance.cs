using System.Text.Json;
using BlockTorrent.Service.Http;
using BlockTorrent.Service.Status;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace BlockTorrent.Service.Tests;

/// <summary>One imaging service running in-process on loopback, with its status read over HTTP as an operator would.</summary>
internal sealed class ServiceInstance : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private static int _targets;
    private readonly WebApplication _app;

    private ServiceInstance(WebApplication app)
    {
        _app = app;
    }

    /// <summary>Gets the status endpoint's base address, for example http://127.0.0.1:41234.</summary>
    public string Url => _app.Services.GetRequiredService<HttpEndPoints>().Status!.Url;

    /// <summary>Gets the base address where a depot serves its manifests (<c>/images/NAME.torrent</c>).</summary>
    public string ManifestsUrl => _app.Services.GetRequiredService<HttpEndPoints>().Manifests!.Url;

    /// <summary>Gets the base address of the Prometheus scrape endpoint (<c>/metrics</c>).</summary>
    public string MetricsUrl => _app.Services.GetRequiredService<HttpEndPoints>().Metrics!.Url;

    /// <summary>Gets the base address of a depot's fleet view (<c>/fleet</c>).</summary>
    public string FleetUrl => _app.Services.GetRequiredService<HttpEndPoints>().Fleet!.Url;

    public StatusBoard Board => _app.Services.GetRequiredService<StatusBoard>();

    /// <summary>Gets a depot's fleet board.</summary>
    public BlockTorrent.Service.Fleet.FleetBoard Fleet => _app.Services.GetRequiredService<BlockTorrent.Service.Fleet.FleetBoard>();

    /// <summary>Completes when the service has stopped (by itself, or disposed).</summary>
    public Task Stopped => _app.WaitForShutdownAsync(TestContext.Current.CancellationToken);

    /// <summary>
    /// Settings every test instance shares: loopback only, free ports, no LSD; a depot serves its manifests over
    /// HTTPS with the tests' shared certificate, which a target pins.
    /// </summary>
    public static Dictionary<string, string?> Loopback(string role) => new()
    {
        ["BlockTorrent:Depot:Certificate"] = TestCertificates.Shared.Certificate,
        ["BlockTorrent:Depot:CertificateKey"] = TestCertificates.Shared.Key,
        ["BlockTorrent:Target:ServerCertificate"] = TestCertificates.Shared.Certificate,
        ["BlockTorrent:Role"] = role,
        ["BlockTorrent:Listen"] = "127.0.0.1:0",
        ["BlockTorrent:Status"] = "127.0.0.1:0",
        ["BlockTorrent:Metrics"] = "127.0.0.1:0",
        ["BlockTorrent:Depot:Fleet"] = "127.0.0.1:0",
        ["BlockTorrent:Depot:Tracker"] = "127.0.0.1:0",
        ["BlockTorrent:Depot:Manifests"] = "127.0.0.1:0",
        ["BlockTorrent:Depot:SettleTime"] = "00:00:00",
        ["Logging:LogLevel:Default"] = "Warning",
    };

    /// <summary>Builds the service with <paramref name="settings"/> (no appsettings.json: the content root is <paramref name="root"/>) and starts it.</summary>
    /// <remarks>
    /// Without a <c>StateDirectory</c> setting, a depot keeps its state (its signing key, its swarm authority) in
    /// <c>depot-state</c> under <paramref name="root"/>, and each target in a folder of its own there (its enrolment),
    /// never in the machine's state folder.
    /// </remarks>
    public static async Task<ServiceInstance> StartAsync(string root, IReadOnlyDictionary<string, string?> settings)
    {
        if (!settings.ContainsKey("BlockTorrent:StateDirectory"))
        {
            var withState = new Dictionary<string, string?>(settings);
            bool depot = string.Equals(settings.GetValueOrDefault("BlockTorrent:Role"), "Depot", StringComparison.OrdinalIgnoreCase);
            withState["BlockTorrent:StateDirectory"] = Path.Combine(root, depot ? "depot-state" : $"target-state-{Interlocked.Increment(ref _targets)}");
            settings = withState;
        }

        WebApplication app = ImagingServiceHost.Build([], root, settings);
        try
        {
            await app.StartAsync(TestContext.Current.CancellationToken);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new ServiceInstance(app);
    }

    /// <summary>Reads <c>GET /status</c>.</summary>
    public async Task<JsonElement> GetStatusAsync()
    {
        string text = await Http.GetStringAsync(Url + "/status", TestContext.Current.CancellationToken);
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}

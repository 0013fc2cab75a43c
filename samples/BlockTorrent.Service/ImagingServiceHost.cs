using BlockTorrent.Service.Capture;
using BlockTorrent.Service.Depot;
using BlockTorrent.Service.Enrolment;
using BlockTorrent.Service.Fleet;
using BlockTorrent.Service.Http;
using BlockTorrent.Service.Options;
using BlockTorrent.Service.Status;
using BlockTorrent.Service.Target;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace BlockTorrent.Service;

/// <summary>
/// Builds the imaging service: settings from appsettings.json, environment variables and the command line
/// (checked at start), systemd integration, the role's background service, and the HTTP endpoints (the status; a depot's manifests).
/// </summary>
internal static class ImagingServiceHost
{
    /// <summary>Builds the service.</summary>
    /// <param name="args">The command line (settings as <c>--BlockTorrent:Role=Target</c>).</param>
    /// <param name="contentRoot">Where appsettings.json is read from; <see langword="null"/> for the program's folder.</param>
    /// <param name="settings">Settings that override all others (tests).</param>
    /// <returns>The service, not started.</returns>
    public static WebApplication Build(string[] args, string? contentRoot = null, IReadOnlyDictionary<string, string?>? settings = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            // appsettings.json is read beside the program (systemd starts services in /), unless --contentRoot says otherwise.
            ContentRootPath = contentRoot ?? (args.Any(a => a.StartsWith("--contentRoot", StringComparison.OrdinalIgnoreCase)) ? null : AppContext.BaseDirectory),
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.Services.AddSystemd();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<StatusBoard>();
        builder.Services.AddSingleton<IValidateOptions<ImagingServiceOptions>, ImagingServiceOptionsValidator>();
        builder.Services.AddOptions<ImagingServiceOptions>().Bind(builder.Configuration.GetSection(ImagingServiceOptions.Section)).ValidateOnStart();

        // The role decides which background service runs; an unknown role registers none and fails validation.
        ServiceRole role = ImagingServiceOptionsValidator.ParseRole(builder.Configuration[$"{ImagingServiceOptions.Section}:Role"]);
        switch (role)
        {
            case ServiceRole.Depot:
                builder.Services.AddSingleton<FleetBoard>();
                builder.Services.AddSingleton<CaptureReceiver>();
                builder.Services.AddSingleton<DepotCredentials>();
                builder.Services.AddHostedService<DepotService>();
                builder.Services.AddHostedService<FleetService>();
                break;
            case ServiceRole.Target:
                builder.Services.AddSingleton<ManifestSource>();
                builder.Services.AddSingleton<TargetEnrolment>();
                builder.Services.AddHostedService<TargetService>();
                builder.Services.AddHostedService<FleetReporter>();
                break;
            default:
                break;
        }

        HttpEndPoints http = HttpEndPoints.FromConfiguration(builder.Configuration, role);
        builder.Services.AddSingleton(http);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            HttpLimits.Apply(kestrel);
            http.Listen(kestrel);
        });
        if (http.Metrics is not null)
        {
            // The library's instruments (bytes moved, pieces verified and written, peers) as Prometheus scrapes them.
            builder.Services.AddOpenTelemetry()
                .ConfigureResource(resource => resource.AddService("blocktorrent-" + role.ToString().ToLowerInvariant()))
                .WithMetrics(metrics => metrics.AddMeter(BlockTorrentClient.MeterName).AddPrometheusExporter());
        }

        WebApplication app = builder.Build();
        StatusToken.Require(app, http, builder.Configuration[$"{ImagingServiceOptions.Section}:StatusToken"]);
        if (http.Metrics is { } metricsAt)
        {
            app.UseOpenTelemetryPrometheusScrapingEndpoint(context => context.Request.Path == "/metrics" && metricsAt.Accepts(context.Connection));
        }

        OnlyAt(http.Status, app.MapGet("/", (StatusBoard board) => Results.Bytes(board.ToJson(), "application/json")));
        OnlyAt(http.Status, app.MapGet("/status", (StatusBoard board) => Results.Bytes(board.ToJson(), "application/json")));
        if (http.Manifests is not null)
        {
            bool webSeed = builder.Configuration.GetValue($"{ImagingServiceOptions.Section}:Depot:WebSeed", new DepotOptions().WebSeed);
            OnlyAt(http.Manifests, app.MapGet("/images/{file}", (string file, StatusBoard board) => ServeManifest(file, board, webSeed)));
        }

        if (role == ServiceRole.Depot)
        {
            FleetEndpoints.Map(app, http, OnlyAt);
            CaptureEndpoints.Map(app, http, OnlyAt);
            EnrolmentEndpoints.Map(app, http, OnlyAt);
        }

        app.Lifetime.ApplicationStarted.Register(() =>
        {
            ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("BlockTorrent.Service");
            if (http.Status is not null)
            {
                Log.StatusListening(logger, http.Status.Url);
            }

            if (http.Metrics is not null)
            {
                Log.MetricsListening(logger, http.Metrics.Url);
            }

            if (http.Fleet is not null)
            {
                Log.FleetListening(logger, http.Fleet.Url);
            }

            if (http.Manifests is not null)
            {
                Log.ManifestsListening(logger, http.Manifests.Setting, http.Manifests.Url);
            }

            if (http.Certificate is { } certificate)
            {
                Log.ManifestsCertificate(logger, certificate.Created ? "made" : "read", certificate.Path, certificate.Fingerprint);
            }
        });
        return app;
    }

    /// <summary>
    /// Stops the service (a role failed, or a target is done), but not before the host has started: a stop requested
    /// while the host still starts its other services (the HTTP listeners) cancels that start, and the program would
    /// end with the cancellation instead of its exit code. Once the host has started, the stop is requested at once.
    /// </summary>
    public static void StopOnceStarted(IHostApplicationLifetime lifetime) =>
        lifetime.ApplicationStarted.Register(lifetime.StopApplication);

    /// <summary>Answers a path only on the connections that reached <paramref name="endPoint"/>; elsewhere it is not found.</summary>
    private static void OnlyAt(ServedEndPoint? endPoint, RouteHandlerBuilder route) =>
        route.AddEndpointFilter((context, next) => endPoint is not null && endPoint.Accepts(context.HttpContext.Connection) ? next(context) : ValueTask.FromResult<object?>(Results.NotFound()));

    /// <summary>
    /// Serves a depot image's manifest (<c>/images/NAME.torrent</c>), so targets can be given its URL, and, as a web
    /// seed (BEP 19: <c>/images/</c> in a manifest's <c>url-list</c>, the image's name appended), the image's own
    /// bytes (<c>/images/NAME</c>) with range requests, unless <c>Depot:WebSeed</c> is off. Only served images are
    /// reachable, and the bytes of a TLS swarm's image never are (its peers alone get them).
    /// </summary>
    private static IResult ServeManifest(string file, StatusBoard board, bool webSeed)
    {
        if (file.EndsWith(".torrent", StringComparison.Ordinal))
        {
            return board.TryGetImage(file[..^".torrent".Length], out ImageStatus? image) && image is not null && File.Exists(image.ManifestPath)
                ? Results.File(image.ManifestPath, "application/x-bittorrent", file)
                : Results.NotFound();
        }

        // An image is a web seed once it is seeded (its manifest known), so its bytes are the ones the manifest describes.
        // Its bytes count against the upload caps the image's peers obey.
        // A TLS swarm's bytes go only to peers holding a certificate of its authority: the web seed does not serve them.
        if (!webSeed || !board.TryGetImage(file, out ImageStatus? seeded) || seeded is not { HasManifest: true, IsTlsSwarm: false } || !File.Exists(seeded.ImagePath))
        {
            return Results.NotFound();
        }

        return seeded.UploadLimiter is { IsLimited: true } limiter
            ? Results.Stream(new UploadLimitedStream(File.OpenRead(seeded.ImagePath), limiter), "application/octet-stream", enableRangeProcessing: true)
            : Results.File(seeded.ImagePath, "application/octet-stream", enableRangeProcessing: true);
    }
}

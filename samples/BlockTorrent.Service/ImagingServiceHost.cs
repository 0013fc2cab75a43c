using System.Net;
using BlockTorrent.Service.Depot;
using BlockTorrent.Service.Options;
using BlockTorrent.Service.Status;
using BlockTorrent.Service.Target;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace BlockTorrent.Service;

/// <summary>
/// Builds the imaging service: settings from appsettings.json, environment variables and the command line
/// (checked at start), systemd integration, the role's background service, and the HTTP status endpoint.
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
        switch (ImagingServiceOptionsValidator.ParseRole(builder.Configuration[$"{ImagingServiceOptions.Section}:Role"]))
        {
            case ServiceRole.Depot:
                builder.Services.AddHostedService<DepotService>();
                break;
            case ServiceRole.Target:
                builder.Services.AddSingleton<ManifestSource>();
                builder.Services.AddHostedService<TargetService>();
                break;
            default:
                break;
        }

        string? status = builder.Configuration[$"{ImagingServiceOptions.Section}:Status"] ?? new ImagingServiceOptions().Status;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            if (ImagingServiceOptionsValidator.TryParseEndPoint(status, out IPEndPoint endPoint))
            {
                kestrel.Listen(endPoint);
            }
        });

        WebApplication app = builder.Build();
        app.MapGet("/", (StatusBoard board) => Results.Bytes(board.ToJson(), "application/json"));
        app.MapGet("/status", (StatusBoard board) => Results.Bytes(board.ToJson(), "application/json"));
        app.MapGet("/images/{file}", (string file, StatusBoard board) => ServeManifest(file, board));
        app.Lifetime.ApplicationStarted.Register(() =>
        {
            ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("BlockTorrent.Service");
            foreach (string url in app.Urls)
            {
                Log.StatusListening(logger, url);
            }
        });
        return app;
    }

    /// <summary>Serves a depot image's manifest (<c>/images/NAME.torrent</c>), so targets can be given its URL. Only the manifests of served images are reachable.</summary>
    private static IResult ServeManifest(string file, StatusBoard board)
    {
        if (!file.EndsWith(".torrent", StringComparison.Ordinal) || !board.TryGetImage(file[..^".torrent".Length], out ImageStatus? image) || image is null || !File.Exists(image.ManifestPath))
        {
            return Results.NotFound();
        }

        return Results.File(image.ManifestPath, "application/x-bittorrent", file);
    }
}

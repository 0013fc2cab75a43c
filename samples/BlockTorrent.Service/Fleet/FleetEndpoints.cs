using System.Text;
using BlockTorrent.Service.Http;

namespace BlockTorrent.Service.Fleet;

/// <summary>
/// The depot's fleet paths: <c>GET /fleet</c> (the JSON view, or the web page for a browser, which asks for HTML),
/// <c>GET /fleet/events</c> (Server-Sent Events: the table every second and the hook events), both on
/// <c>Depot:Fleet</c>; and <c>POST /fleet/report</c>, where target services report, on <c>Depot:Manifests</c>,
/// the address targets already reach. <see cref="Http.StatusToken"/> guards them all: the view with the status's
/// token, a report with the token too (or, without one, from this machine only).
/// </summary>
internal static class FleetEndpoints
{
    private const string PageResource = "BlockTorrent.Service.Fleet.fleet.html";

    /// <summary>Maps the paths; <paramref name="onlyAt"/> limits a route to the connections that reached an end point.</summary>
    public static void Map(WebApplication app, HttpEndPoints http, Action<ServedEndPoint?, RouteHandlerBuilder> onlyAt)
    {
        if (http.Fleet is { } fleetAt)
        {
            onlyAt(fleetAt, app.MapGet("/fleet", (HttpContext context, FleetBoard fleet) => WantsPage(context.Request)
                ? Results.Stream(OpenPage(), "text/html; charset=utf-8")
                : Results.Bytes(fleet.ToJson(), "application/json")));
            onlyAt(fleetAt, app.MapGet("/fleet/events", (HttpContext context, FleetBoard fleet) => StreamAsync(context, fleet)));
        }

        if (http.Manifests is { } manifestsAt)
        {
            onlyAt(manifestsAt, app.MapPost("/fleet/report", (HttpContext context, FleetBoard fleet) => ReceiveAsync(context, fleet)));
        }
    }

    /// <summary>A browser asks for HTML first; curl and programs ask for anything, and get JSON. <c>?format=json</c> forces JSON.</summary>
    private static bool WantsPage(HttpRequest request) =>
        request.Query["format"] != "json" && request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    private static Stream OpenPage() =>
        typeof(FleetEndpoints).Assembly.GetManifestResourceStream(PageResource) ?? throw new InvalidOperationException($"The fleet page {PageResource} is not embedded.");

    private static async Task StreamAsync(HttpContext context, FleetBoard fleet)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        CancellationToken aborted = context.RequestAborted;
        using FleetSubscription subscription = fleet.Subscribe(snapshots: true);
        try
        {
            await foreach (FleetEvent fleetEvent in subscription.Reader.ReadAllAsync(aborted).ConfigureAwait(false))
            {
                string head = $"id: {fleetEvent.Id}\nevent: {fleetEvent.Kind}\ndata: ";
                await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(head), aborted).ConfigureAwait(false);
                await context.Response.Body.WriteAsync(fleetEvent.Json, aborted).ConfigureAwait(false);
                await context.Response.Body.WriteAsync("\n\n"u8.ToArray(), aborted).ConfigureAwait(false);
                await context.Response.Body.FlushAsync(aborted).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away.
        }
    }

    private static async Task<IResult> ReceiveAsync(HttpContext context, FleetBoard fleet)
    {
        if (context.Request.ContentLength > TargetReport.MaxLength)
        {
            return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        }

        byte[] body = new byte[TargetReport.MaxLength + 1];
        int length = 0;
        int read;
        while (length < body.Length && (read = await context.Request.Body.ReadAsync(body.AsMemory(length), context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            length += read;
        }

        if (length > TargetReport.MaxLength)
        {
            return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        }

        if (TargetReport.Parse(body.AsSpan(0, length)) is not { } report)
        {
            return Results.BadRequest();
        }

        // Only reports about the images this depot serves are kept.
        return fleet.Report(report, context.Connection.RemoteIpAddress) ? Results.NoContent() : Results.NotFound();
    }
}

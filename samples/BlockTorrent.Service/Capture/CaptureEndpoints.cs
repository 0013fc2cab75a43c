using System.Net;
using System.Text.Json;
using BlockTorrent.Service.Http;

namespace BlockTorrent.Service.Capture;

/// <summary>
/// <c>POST /capture/NAME?port=PORT</c> (body: the .torrent) starts receiving a captured image from the poster, who
/// seeds it at its address and PORT; <c>GET /capture/NAME</c> says how it goes. Both on <c>Depot:Manifests</c>, the
/// address capturers already reach, and both guarded by <see cref="StatusToken"/> as target reports are: the token,
/// or without one, from this machine only.
/// </summary>
internal static class CaptureEndpoints
{
    /// <summary>The largest manifest accepted: enough for a v1+v2 manifest of a multi-terabyte image at 4 MiB pieces.</summary>
    public const int MaxManifestLength = 64 << 20;

    public static void Map(WebApplication app, HttpEndPoints http, Action<ServedEndPoint?, RouteHandlerBuilder> onlyAt)
    {
        if (http.Manifests is not { } manifestsAt)
        {
            return;
        }

        onlyAt(manifestsAt, app.MapPost("/capture/{name}", (string name, HttpContext context, CaptureReceiver receiver) => ReceiveAsync(name, context, receiver)));
        onlyAt(manifestsAt, app.MapGet("/capture/{name}", (string name, CaptureReceiver receiver) => receiver.Get(name) is { } state
            ? Results.Bytes(JsonSerializer.SerializeToUtf8Bytes(new { state = state.State, error = state.Error }), "application/json")
            : Results.NotFound()));
    }

    private static async Task<IResult> ReceiveAsync(string name, HttpContext context, CaptureReceiver receiver)
    {
        if (!int.TryParse(context.Request.Query["port"], out int port) || port is <= 0 or > 65535 || context.Connection.RemoteIpAddress is not { } from)
        {
            return Results.BadRequest("name the port the capturer seeds on: ?port=PORT");
        }

        if (context.Request.ContentLength > MaxManifestLength)
        {
            return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
        }

        using var body = new MemoryStream();
        byte[] chunk = new byte[81920];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            body.Write(chunk, 0, read);
            if (body.Length > MaxManifestLength)
            {
                return Results.StatusCode(StatusCodes.Status413PayloadTooLarge);
            }
        }

        string? refused = receiver.Start(name, body.ToArray(), new IPEndPoint(from.IsIPv4MappedToIPv6 ? from.MapToIPv4() : from, port));
        return refused is null ? Results.Accepted($"/capture/{name}") : Results.Conflict(refused);
    }
}

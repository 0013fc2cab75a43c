using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Net.Http.Headers;

namespace BlockTorrent.Service.Http;

/// <summary>
/// The secret the status and metrics ask for (<c>StatusToken</c>): when it is set, a request that reached the
/// status's or the metrics' address must carry <c>Authorization: Bearer TOKEN</c> or it is answered 401. A depot's
/// manifests stay open (targets fetch them, and their trust comes from signatures and pinning), and so does the
/// report targets post beside them (<c>POST /fleet/report</c>), from the depot's own machine too. The settings check
/// refuses a status or metrics bound beyond loopback without a token, since what a machine is deploying, its devices
/// and its peers are nobody else's business.
/// </summary>
internal static class StatusToken
{
    /// <summary>Whether an end point bound to <paramref name="address"/> is reachable from other machines.</summary>
    /// <param name="address">The configured address.</param>
    /// <returns><see langword="true"/> unless it is a loopback address.</returns>
    public static bool IsBeyondLoopback(IPAddress address) => !IPAddress.IsLoopback(address);

    /// <summary>Adds the check before every other path handler.</summary>
    /// <param name="app">The service.</param>
    /// <param name="http">Where each path is answered.</param>
    /// <param name="token">The configured token; <see langword="null"/> or empty asks for none.</param>
    public static void Require(WebApplication app, HttpEndPoints http, string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return;
        }

        byte[] expected = Encoding.UTF8.GetBytes("Bearer " + token);
        app.Use((context, next) =>
        {
            ConnectionInfo connection = context.Connection;
            bool manifest = http.Manifests is { } manifests && manifests.Accepts(connection)
                && (context.Request.Path.StartsWithSegments("/images", StringComparison.Ordinal) || context.Request.Path.Equals("/fleet/report", StringComparison.Ordinal));
            bool guarded = http.Status?.Accepts(connection) == true || http.Metrics?.Accepts(connection) == true;
            if (manifest || !guarded || Carries(context.Request, expected))
            {
                return next(context);
            }

            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Bearer";
            return Task.CompletedTask;
        });
    }

    private static bool Carries(HttpRequest request, byte[] expected)
    {
        string? header = request.Headers[HeaderNames.Authorization];
        return header is not null && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header), expected);
    }
}

using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace BlockTorrent.Service.Http;

/// <summary>
/// The secret the status, the metrics and a depot's fleet view ask for (<c>StatusToken</c>): when it is set, a request
/// that reached the status's, the metrics' or the fleet's address must carry <c>Authorization: Bearer TOKEN</c> (or the
/// cookie a browser gets by opening <c>/fleet/?token=TOKEN</c> once) or it is answered 401. The settings check refuses
/// any of them bound beyond loopback without a token, since what a machine is deploying, its devices and its peers
/// are nobody else's business. A target's report (<c>POST /fleet/report</c>) changes the fleet view, so it must carry
/// the token too (<c>Target:ReportToken</c>), and so must an enrolment (<c>POST /enroll</c>), which hands out a
/// swarm certificate; a depot without a token takes reports and enrolments from its own machine only. A
/// depot's manifests stay open: targets fetch them, and their trust comes from signatures, pinning and HTTPS.
/// </summary>
internal static class StatusToken
{
    /// <summary>The cookie a browser keeps the token in once it opened a page with <c>?token=</c>.</summary>
    public const string CookieName = "blocktorrent-token";

    /// <summary>Whether an end point bound to <paramref name="address"/> is reachable from other machines.</summary>
    /// <param name="address">The configured address.</param>
    /// <returns><see langword="true"/> unless it is a loopback address.</returns>
    public static bool IsBeyondLoopback(IPAddress address) => !IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);

    /// <summary>Adds the check before every other path handler.</summary>
    /// <param name="app">The service.</param>
    /// <param name="http">Where each path is answered.</param>
    /// <param name="token">The configured token; <see langword="null"/> or empty asks for none.</param>
    public static void Require(WebApplication app, HttpEndPoints http, string? token)
    {
        byte[]? expected = string.IsNullOrEmpty(token) ? null : Encoding.UTF8.GetBytes(token);
        app.Use((context, next) =>
        {
            ConnectionInfo connection = context.Connection;
            PathString path = context.Request.Path;
            bool atManifests = http.Manifests?.Accepts(connection) == true;
            if (atManifests && path.StartsWithSegments("/images", StringComparison.Ordinal))
            {
                return next(context);
            }

            if (atManifests && IsMachinePath(path))
            {
                // Without a token nobody elsewhere can prove who they are, so only this machine's own target reports.
                bool allowed = expected is null
                    ? connection.RemoteIpAddress is { } from && !IsBeyondLoopback(from)
                    : Carries(context.Request, expected);
                return allowed ? next(context) : RefuseAsync(context);
            }

            bool guarded = http.Status?.Accepts(connection) == true || http.Metrics?.Accepts(connection) == true || http.Fleet?.Accepts(connection) == true;
            if (expected is null || !guarded || Carries(context.Request, expected))
            {
                return next(context);
            }

            if (HttpMethods.IsGet(context.Request.Method) && context.Request.Query.TryGetValue("token", out var given) && FixedTimeEquals(given.ToString(), expected))
            {
                // A browser cannot send a header with its page's event stream: it keeps the token in a cookie for this
                // server alone, and the token leaves the address bar.
                context.Response.Cookies.Append(CookieName, given.ToString(), new CookieOptions { HttpOnly = true, SameSite = Microsoft.AspNetCore.Http.SameSiteMode.Strict, Secure = context.Request.IsHttps, Path = "/" });
                var rest = context.Request.Query.Where(q => q.Key != "token").ToDictionary(q => q.Key, q => q.Value);
                context.Response.Redirect(QueryHelpers.AddQueryString(context.Request.PathBase + path, rest));
                return Task.CompletedTask;
            }

            return RefuseAsync(context);
        });
    }

    /// <summary>
    /// Whether a path is one machines post to (a report, an enrolment, a capture), compared as routing compares paths:
    /// ignoring case, so <c>/ENROLL</c> cannot reach the route past the check.
    /// </summary>
    private static bool IsMachinePath(PathString path) =>
        path.Equals("/fleet/report", StringComparison.OrdinalIgnoreCase)
        || path.Equals("/enroll", StringComparison.OrdinalIgnoreCase)
        || path.StartsWithSegments("/capture", StringComparison.OrdinalIgnoreCase);

    private static Task RefuseAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }

    private static bool Carries(HttpRequest request, byte[] expected)
    {
        string? header = request.Headers[HeaderNames.Authorization];
        if (header is not null && header.StartsWith("Bearer ", StringComparison.Ordinal) && FixedTimeEquals(header["Bearer ".Length..], expected))
        {
            return true;
        }

        return request.Cookies.TryGetValue(CookieName, out string? cookie) && FixedTimeEquals(cookie, expected);
    }

    private static bool FixedTimeEquals(string given, byte[] expected) => CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), expected);
}

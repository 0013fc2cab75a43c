using System.Net;
using BlockTorrent.Service.Options;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace BlockTorrent.Service.Http;

/// <summary>
/// Where the service answers HTTP: the status (<c>GET /status</c>) on <c>Status</c>, for this machine by default,
/// and a depot's manifests (<c>GET /images/NAME.torrent</c>) on <c>Depot:Manifests</c>, for every machine by
/// default. Settings that name the same port share one listener on the wider address (two sockets could not both
/// bind it), and each path is answered only on the address its own setting names: by default, other machines get
/// the manifests from port 8580 and a 404 for the status. The Prometheus scrape endpoint (<c>GET /metrics</c>) is
/// answered on <c>Metrics</c>, this machine's by default.
/// </summary>
internal sealed class HttpEndPoints
{
    private HttpEndPoints(ServedEndPoint? status, ServedEndPoint? manifests, ServedEndPoint? metrics)
    {
        Status = status;
        Manifests = manifests;
        Metrics = metrics;
    }

    /// <summary>Gets where the status is answered; <see langword="null"/> when the setting is invalid (the service then refuses to start).</summary>
    public ServedEndPoint? Status { get; }

    /// <summary>Gets where a depot answers its manifests; <see langword="null"/> for a target, or when the depot serves none.</summary>
    public ServedEndPoint? Manifests { get; }

    /// <summary>Gets where the Prometheus scrape endpoint is answered; <see langword="null"/> when metrics are not exported.</summary>
    public ServedEndPoint? Metrics { get; }

    /// <summary>Reads the end points from the settings as they are before validation: invalid ones are left out, and validation names them.</summary>
    /// <param name="configuration">The service's configuration.</param>
    /// <param name="role">The configured role.</param>
    /// <returns>The end points.</returns>
    public static HttpEndPoints FromConfiguration(IConfiguration configuration, ServiceRole role)
    {
        const string S = ImagingServiceOptions.Section;
        ServedEndPoint? status = Read(configuration, $"{S}:Status", new ImagingServiceOptions().Status);
        ServedEndPoint? manifests = role == ServiceRole.Depot ? Read(configuration, $"{S}:Depot:Manifests", new DepotOptions().Manifests) : null;
        ServedEndPoint? metrics = Read(configuration, $"{S}:Metrics", new ImagingServiceOptions().Metrics);
        return new HttpEndPoints(status, manifests, metrics);
    }

    /// <summary>Makes Kestrel listen: one listener per end point, except where a wider one on the same port already receives its connections.</summary>
    /// <param name="kestrel">Kestrel's options.</param>
    public void Listen(KestrelServerOptions kestrel)
    {
        ServedEndPoint[] all = new[] { Status, Manifests, Metrics }.OfType<ServedEndPoint>().ToArray();

        // The widest first, so that a narrower end point finds the listener that covers it.
        foreach (ServedEndPoint endPoint in all.OrderByDescending(e => all.Count(e.Covers)))
        {
            ServedEndPoint? cover = all.FirstOrDefault(other => other.Listener is not null && other.Covers(endPoint));
            if (cover is not null)
            {
                endPoint.Listener = cover.Listener;
            }
            else
            {
                kestrel.Listen(endPoint.Configured, listener => endPoint.Listener = listener);
            }
        }
    }

    private static ServedEndPoint? Read(IConfiguration configuration, string key, string? defaultValue)
    {
        string? value = configuration[key] ?? defaultValue;
        return ImagingServiceOptionsValidator.TryParseEndPoint(value, out IPEndPoint endPoint) ? new ServedEndPoint(key, endPoint) : null;
    }
}

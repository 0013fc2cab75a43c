using System.Net;
using BlockTorrent.Samples;
using BlockTorrent.Service.Options;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace BlockTorrent.Service.Http;

/// <summary>
/// Where the service answers HTTP: the status (<c>GET /status</c>) on <c>Status</c>, for this machine by default,
/// and a depot's manifests (<c>GET /images/NAME.torrent</c>) on <c>Depot:Manifests</c>, for every machine by
/// default. Settings that name the same port share one listener on the wider address (two sockets could not both
/// bind it), and each path is answered only on the address its own setting names: by default, other machines get
/// the manifests from port 8580 and a 404 for the status. The Prometheus scrape endpoint (<c>GET /metrics</c>) is
/// answered on <c>Metrics</c>, and a depot's fleet view (<c>GET /fleet</c>, its page and its event stream) on
/// <c>Depot:Fleet</c>, both this machine's by default. A depot serves its manifests over HTTPS
/// (<c>Depot:Https</c>, on by default) with its <see cref="DepotCertificate"/>; a status or metrics sharing their
/// port are then answered over HTTPS too.
/// </summary>
internal sealed class HttpEndPoints
{
    private readonly Func<DepotCertificate?>? _certificate;
    private DepotCertificate? _loaded;

    private HttpEndPoints(ServedEndPoint? status, ServedEndPoint? manifests, ServedEndPoint? metrics, ServedEndPoint? fleet, Func<DepotCertificate?>? certificate)
    {
        Status = status;
        Manifests = manifests;
        Metrics = metrics;
        _certificate = certificate;
        Fleet = fleet;
    }

    /// <summary>Gets where the status is answered; <see langword="null"/> when the setting is invalid (the service then refuses to start).</summary>
    public ServedEndPoint? Status { get; }

    /// <summary>Gets where a depot answers its manifests; <see langword="null"/> for a target, or when the depot serves none.</summary>
    public ServedEndPoint? Manifests { get; }

    /// <summary>Gets where the Prometheus scrape endpoint is answered; <see langword="null"/> when metrics are not exported.</summary>
    public ServedEndPoint? Metrics { get; }

    /// <summary>Gets where a depot answers its fleet view; <see langword="null"/> for a target, or when the depot shows none.</summary>
    public ServedEndPoint? Fleet { get; }

    /// <summary>Gets the certificate the manifests are served with; <see langword="null"/> until Kestrel is configured, or when they are served over plain HTTP.</summary>
    public DepotCertificate? Certificate => _loaded;

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
        Func<DepotCertificate?>? certificate = null;
        if (manifests is not null && configuration.GetValue($"{S}:Depot:Https", new DepotOptions().Https))
        {
            manifests.WantsHttps = true;
            string? file = configuration[$"{S}:Depot:Certificate"];
            string? key = configuration[$"{S}:Depot:CertificateKey"];
            string state = configuration[$"{S}:StateDirectory"] is { Length: > 0 } configured ? configured : ResumeFiles.StateFolder();
            certificate = () => DepotCertificate.LoadOrCreate(file, key, state);
            if (!string.IsNullOrWhiteSpace(file))
            {
                // Kestrel is configured when the service is built, before the settings are checked: a configured
                // certificate that cannot be used is left to the check, which refuses to start (exit code 2).
                certificate = () =>
                {
                    try
                    {
                        return DepotCertificate.LoadOrCreate(file, key, state);
                    }
                    catch (IOException)
                    {
                        return null;
                    }
                };
            }
        }

        ServedEndPoint? fleet = role == ServiceRole.Depot ? Read(configuration, $"{S}:Depot:Fleet", new DepotOptions().Fleet) : null;
        return new HttpEndPoints(status, manifests, metrics, fleet, certificate);
    }

    /// <summary>
    /// Makes Kestrel listen: one listener per end point, except where a wider one on the same port already receives
    /// its connections. A listener serves HTTPS when any end point it receives wants it (one port speaks one protocol).
    /// </summary>
    /// <param name="kestrel">Kestrel's options.</param>
    /// <exception cref="IOException">The depot's own HTTPS certificate cannot be read or made.</exception>
    public void Listen(KestrelServerOptions kestrel)
    {
        ServedEndPoint[] all = new[] { Status, Manifests, Metrics, Fleet }.OfType<ServedEndPoint>().ToArray();

        // The widest first, so that a narrower end point finds the listener that covers it.
        var owners = new Dictionary<ServedEndPoint, List<ServedEndPoint>>();
        foreach (ServedEndPoint endPoint in all.OrderByDescending(e => all.Count(e.Covers)))
        {
            ServedEndPoint? cover = owners.Keys.FirstOrDefault(owner => owner.Covers(endPoint));
            if (cover is null)
            {
                owners.Add(endPoint, [endPoint]);
            }
            else
            {
                owners[cover].Add(endPoint);
            }
        }

        foreach ((ServedEndPoint owner, List<ServedEndPoint> served) in owners)
        {
            bool https = served.Any(e => e.WantsHttps);
            kestrel.Listen(owner.Configured, listener =>
            {
                if (https)
                {
                    _loaded ??= _certificate!();
                    if (_loaded is not null)
                    {
                        listener.UseHttps(_loaded.Certificate);
                    }
                }

                foreach (ServedEndPoint endPoint in served)
                {
                    endPoint.Listener = listener;
                    endPoint.Https = https;
                }
            });
        }
    }

    private static ServedEndPoint? Read(IConfiguration configuration, string key, string? defaultValue)
    {
        string? value = configuration[key] ?? defaultValue;
        return ImagingServiceOptionsValidator.TryParseEndPoint(value, out IPEndPoint endPoint) ? new ServedEndPoint(key, endPoint) : null;
    }
}

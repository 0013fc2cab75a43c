using System.Net;
using System.Net.Http.Headers;
using BlockTorrent.Samples;
using BlockTorrent.Service.Options;
using BlockTorrent.Service.Status;
using Microsoft.Extensions.Options;

namespace BlockTorrent.Service.Target;

/// <summary>
/// Tells the depot how this target is doing (<c>POST /fleet/report</c> every second, JSON): its peer id and host
/// name, its state (checking, downloading, seeding, done, failed), progress, rates and, at the end, where its pieces
/// came from. The depot shows it in its fleet view and raises the hook events from it. The last report, with the
/// final state, is sent as the service stops. A depot that cannot be reached changes nothing in the deployment. An
/// https depot is checked as the manifest's server is (<c>Target:ServerCertificate</c>, <c>Target:ServerFingerprint</c>):
/// reports go only to the depot the target trusts. A report carries <c>Target:ReportToken</c>, without which a depot
/// on another machine refuses it.
/// </summary>
internal sealed class FleetReporter(IOptions<ImagingServiceOptions> options, StatusBoard board, TimeProvider time, ILoggerFactory loggerFactory) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private readonly ILogger _logger = loggerFactory.CreateLogger("BlockTorrent.Service.Target");
    private readonly string _host = Dns.GetHostName();
    private bool _failing;

    /// <summary>Gets the URL reports go to: <c>Target:ReportTo</c>, else the origin of an http(s) <c>Target:Image</c>; <see langword="null"/> for none.</summary>
    public static Uri? ReportUri(TargetOptions target)
    {
        string? baseUrl = target.ReportTo;
        if (baseUrl is null && Uri.TryCreate(target.Image?.Trim(), UriKind.Absolute, out Uri? image) && image.Scheme is "http" or "https")
        {
            baseUrl = image.GetLeftPart(UriPartial.Authority);
        }

        return string.IsNullOrWhiteSpace(baseUrl) || !Uri.TryCreate(baseUrl.TrimEnd('/') + "/fleet/report", UriKind.Absolute, out Uri? uri) ? null : uri;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (ReportUri(options.Value.Target) is not { } uri)
        {
            return;
        }

        TargetOptions target = options.Value.Target;
        ServerTrust trust = ServerTrust.Create(target.ServerCertificate, target.ServerFingerprint);
        using HttpClientHandler handler = trust.CreateHandler();
        using var http = new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(5) };
        if (!string.IsNullOrEmpty(target.ReportToken))
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", target.ReportToken);
        }
        try
        {
            using var timer = new PeriodicTimer(Interval, time);
            do
            {
                await SendAsync(http, uri, stoppingToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The service is stopping: the final state goes out below.
        }

        using var last = new CancellationTokenSource(TimeSpan.FromSeconds(5), time);
        for (int attempt = 0; attempt < 3 && !last.IsCancellationRequested; attempt++)
        {
            if (await SendAsync(http, uri, last.Token).ConfigureAwait(false))
            {
                break;
            }
        }
    }

    private async Task<bool> SendAsync(HttpClient http, Uri uri, CancellationToken cancellationToken)
    {
        byte[]? report = board.Target?.ToReport(board.PeerId, _host);
        if (report is null)
        {
            return true;
        }

        try
        {
            using var content = new ByteArrayContent(report);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            using HttpResponseMessage response = await http.PostAsync(uri, content, cancellationToken).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            _failing = false;
            return true;
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Said once per outage, not every second.
            if (!_failing)
            {
                Log.ReportFailed(_logger, uri, e.Message);
            }

            _failing = true;
            return false;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}

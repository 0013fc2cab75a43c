using System.Net;
using System.Net.Http.Headers;
using BlockTorrent.Service.Options;
using Microsoft.Extensions.Options;

namespace BlockTorrent.Service.Fleet;

/// <summary>
/// Keeps the depot's fleet view moving: once a second it samples the swarm's rate and sends the table to the event
/// stream, and it posts every hook event (a target done or failed, an image deployed) to each of
/// <see cref="DepotOptions.Webhooks"/>, in order, retrying a delivery the receiver did not take.
/// </summary>
/// <remarks>
/// A delivery is retried after a failed connection, a time-out, a 408, a 429 or a 5xx answer, up to
/// <see cref="DepotOptions.WebhookAttempts"/> attempts, waiting <see cref="DepotOptions.WebhookRetryDelay"/> and
/// twice as long after each failure; any other answer is final (the receiver took it, or refused it for good).
/// Each webhook has its own queue, so a receiver that is down holds back only its own deliveries.
/// </remarks>
internal sealed class FleetService(FleetBoard fleet, IOptions<ImagingServiceOptions> options, TimeProvider time, ILoggerFactory loggerFactory) : BackgroundService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger("BlockTorrent.Service.Fleet");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        DepotOptions depot = options.Value.Depot;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var hooks = new List<Task>();
        foreach (string url in depot.Webhooks)
        {
            FleetSubscription subscription = fleet.Subscribe(snapshots: false);
            hooks.Add(DeliverAsync(http, new Uri(url), subscription, depot, stoppingToken));
        }

        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), time);
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                fleet.Tick();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The service is stopping.
        }

        await Task.WhenAll(hooks).ConfigureAwait(false);
    }

    private async Task DeliverAsync(HttpClient http, Uri url, FleetSubscription subscription, DepotOptions depot, CancellationToken stoppingToken)
    {
        using (subscription)
        {
            try
            {
                await foreach (FleetEvent fleetEvent in subscription.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
                {
                    await PostAsync(http, url, fleetEvent, depot, stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // The service is stopping; what is still queued is not delivered.
            }
        }
    }

    private async Task PostAsync(HttpClient http, Uri url, FleetEvent fleetEvent, DepotOptions depot, CancellationToken stoppingToken)
    {
        TimeSpan delay = depot.WebhookRetryDelay;
        for (int attempt = 1; ; attempt++)
        {
            string failure;
            try
            {
                using var content = new ByteArrayContent(fleetEvent.Json);
                content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
                request.Headers.Add("X-BlockTorrent-Event", fleetEvent.Kind);
                request.Headers.Add("X-BlockTorrent-Delivery", fleetEvent.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
                using HttpResponseMessage response = await http.SendAsync(request, stoppingToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    Log.WebhookDelivered(_logger, fleetEvent.Kind, url, attempt);
                    return;
                }

                failure = $"HTTP {(int)response.StatusCode}";
                if (!IsWorthRetrying(response.StatusCode))
                {
                    Log.WebhookRefused(_logger, fleetEvent.Kind, url, failure);
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !stoppingToken.IsCancellationRequested))
            {
                failure = e.Message;
            }

            if (attempt >= depot.WebhookAttempts)
            {
                Log.WebhookGaveUp(_logger, fleetEvent.Kind, url, attempt, failure);
                return;
            }

            Log.WebhookRetry(_logger, fleetEvent.Kind, url, failure, delay);
            await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
            delay *= 2;
        }
    }

    private static bool IsWorthRetrying(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;
}

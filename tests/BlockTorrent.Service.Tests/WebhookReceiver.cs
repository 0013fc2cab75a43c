using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace BlockTorrent.Service.Tests;

/// <summary>An HTTP endpoint that takes webhook POSTs on loopback, refusing the first few with 503, and keeps every delivery.</summary>
internal sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<Delivery> _deliveries = [];
    private int _refuse;

    private WebhookReceiver(WebApplication app, int failFirst)
    {
        _app = app;
        _refuse = failFirst;
    }

    public string Url => _app.Urls.First() + "/hook";

    /// <summary>Gets every delivery attempt, in order.</summary>
    public Delivery[] All
    {
        get
        {
            lock (_deliveries)
            {
                return [.. _deliveries];
            }
        }
    }

    /// <summary>Gets the deliveries answered 200, in order.</summary>
    public Delivery[] Accepted => [.. All.Where(d => d.Answer == HttpStatusCode.OK)];

    public static async Task<WebhookReceiver> StartAsync(int failFirst)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        WebApplication app = builder.Build();
        var receiver = new WebhookReceiver(app, failFirst);
        app.MapPost("/hook", receiver.ReceiveAsync);
        await app.StartAsync(TestContext.Current.CancellationToken);
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    private async Task ReceiveAsync(HttpContext context)
    {
        using var body = new StreamReader(context.Request.Body);
        string text = await body.ReadToEndAsync(context.RequestAborted);
        HttpStatusCode answer = Interlocked.Decrement(ref _refuse) >= 0 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK;
        lock (_deliveries)
        {
            _deliveries.Add(new Delivery(context.Request.Headers["X-BlockTorrent-Event"].ToString(), context.Request.Headers["X-BlockTorrent-Delivery"].ToString(), text, answer));
        }

        context.Response.StatusCode = (int)answer;
    }

    /// <summary>One POST as received, and how it was answered.</summary>
    public sealed record Delivery(string Event, string DeliveryId, string Body, HttpStatusCode Answer);
}

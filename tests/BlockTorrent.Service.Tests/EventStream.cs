using System.Text;
using System.Text.Json;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>A Server-Sent Events client that keeps every event it reads, for a test to wait on.</summary>
internal sealed class EventStream : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(string Kind, JsonElement Data)> _events = [];
    private readonly Task _reading;

    public EventStream(string url)
    {
        _reading = ReadAsync(url, _stop.Token);
    }

    /// <summary>Gets the data of every event of <paramref name="kind"/> read so far.</summary>
    public JsonElement[] Received(string kind)
    {
        lock (_events)
        {
            return [.. _events.Where(e => e.Kind == kind).Select(e => e.Data)];
        }
    }

    /// <summary>Waits until an event of <paramref name="kind"/> has been read, and returns the first.</summary>
    public async Task<JsonElement> WaitForAsync(string kind)
    {
        await Eventually.TrueAsync(() => Received(kind).Length > 0 || _reading.IsCompleted, TimeSpan.FromSeconds(90), $"a '{kind}' event on the stream", TestContext.Current.CancellationToken);
        if (Received(kind) is [var first, ..])
        {
            return first;
        }

        await _reading;
        throw new InvalidOperationException($"The event stream ended without a '{kind}' event.");
    }

    public void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    private async Task ReadAsync(string url, CancellationToken cancellationToken)
    {
        await Task.Yield();
        using HttpResponseMessage response = await Http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken), Encoding.UTF8);
        string kind = "message";
        var data = new StringBuilder();
        try
        {
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    kind = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data.Append(line["data: ".Length..]);
                }
                else if (line.Length == 0)
                {
                    lock (_events)
                    {
                        _events.Add((kind, JsonDocument.Parse(data.ToString()).RootElement.Clone()));
                    }

                    data.Clear();
                    kind = "message";
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The test is over.
        }
    }
}

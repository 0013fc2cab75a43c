using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// A web seed for the tests: serves one file's bytes at <c>/files/NAME</c> by single HTTP range requests
/// (206 with Content-Range), counting what it sent, and optionally corrupting every answer.
/// </summary>
internal sealed partial class RangeServer : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly byte[] _content;
    private readonly string _path;
    private readonly Task _loop;
    private long _bytesServed;
    private int _requests;

    public RangeServer(string name, byte[] content)
    {
        _content = content;
        _path = "/files/" + name;
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        Folder = new Uri($"http://127.0.0.1:{port}/files/");
        _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        _listener.Start();
        _loop = Task.Run(ServeAsync);
    }

    /// <summary>Gets the folder URL (BEP 19: the torrent's name is appended).</summary>
    public Uri Folder { get; }

    /// <summary>Gets or sets a value indicating whether every answer has its bytes flipped.</summary>
    public bool Corrupt { get; set; }

    /// <summary>Gets the ranges asked for, as (offset, length).</summary>
    public List<(long Offset, long Length)> Ranges { get; } = [];

    public long BytesServed => Interlocked.Read(ref _bytesServed);

    public int Requests => Volatile.Read(ref _requests);

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop;
    }

    [GeneratedRegex(@"^bytes=(\d+)-(\d+)$")]
    private static partial Regex RangePattern();

    private async Task ServeAsync()
    {
        while (true)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            _ = Task.Run(() => AnswerAsync(context));
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        HttpListenerResponse response = context.Response;
        try
        {
            Interlocked.Increment(ref _requests);
            Match range = RangePattern().Match(context.Request.Headers["Range"] ?? string.Empty);
            if (context.Request.Url?.AbsolutePath != _path)
            {
                response.StatusCode = 404;
                return;
            }

            if (!range.Success)
            {
                response.StatusCode = 400;
                return;
            }

            long from = long.Parse(range.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            long to = Math.Min(long.Parse(range.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture), _content.Length - 1);
            lock (Ranges)
            {
                Ranges.Add((from, to - from + 1));
            }

            byte[] body = _content.AsSpan((int)from, (int)(to - from + 1)).ToArray();
            if (Corrupt)
            {
                for (int i = 0; i < body.Length; i += 512)
                {
                    body[i] ^= 0x5A;
                }
            }

            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {from}-{to}/{_content.Length}";
            response.ContentLength64 = body.Length;
            await response.OutputStream.WriteAsync(body);
            Interlocked.Add(ref _bytesServed, body.Length);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
        {
            // The client went away.
        }
        finally
        {
            try
            {
                response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                // Already gone.
            }
        }
    }
}

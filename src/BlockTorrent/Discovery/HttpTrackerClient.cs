using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using BlockTorrent.Manifest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BlockTorrent.Discovery;

/// <summary>
/// A client of one HTTP tracker (BEP 3): announces with compact peers requested (BEP 23), reads IPv6 peers (BEP 7),
/// scrapes by the BEP 48 convention. Responses are read up to <see cref="TrackerClientOptions.MaxResponseBytes"/>
/// and every request is bounded by <see cref="TrackerClientOptions.HttpRequestTimeout"/>.
/// </summary>
internal sealed class HttpTrackerClient : ITrackerClient
{
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly TrackerClientOptions _options;
    private readonly ILogger _logger;
    private readonly Lock _sourceLock = new();
    private string? _trackerId;

    // Where the connections this client opened went: the first one's address, replaced for good by the first that is
    // not on loopback, so the tracker counts as this machine's only while every connection to it stayed here.
    private IPAddress? _source;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="uri">The announce address, <c>http(s)://host:port/path</c>, possibly with a query (kept).</param>
    /// <param name="httpClient">
    /// The HTTP client to use (not disposed), or <see langword="null"/> for one of our own, which also learns the
    /// tracker's address (<see cref="AnnounceResponse.Source"/>).
    /// </param>
    /// <param name="options">Timeouts and bounds, or <see langword="null"/> for the defaults.</param>
    /// <param name="logger">The logger, or <see langword="null"/>.</param>
    public HttpTrackerClient(Uri uri, HttpClient? httpClient = null, TrackerClientOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(uri);
        if (!uri.IsAbsoluteUri || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"'{uri}' is not an HTTP tracker address (http(s)://host:port/announce).", nameof(uri));
        }

        _options = options ?? TrackerClientOptions.Default;
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
        Uri = uri;
        _ownsHttp = httpClient is null;
        _http = httpClient ?? new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = true, MaxAutomaticRedirections = 3, ConnectCallback = ConnectAsync }) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <inheritdoc />
    public Uri Uri { get; }

    /// <summary>
    /// Gets the scrape address by the BEP 48 convention (the last path segment's <c>announce</c> replaced by
    /// <c>scrape</c>), or <see langword="null"/> when the announce address does not follow it.
    /// </summary>
    public Uri? ScrapeUri
    {
        get
        {
            string path = Uri.AbsolutePath;
            int slash = path.LastIndexOf('/');
            if (!path.AsSpan(slash + 1).StartsWith("announce", StringComparison.Ordinal))
            {
                return null;
            }

            var builder = new UriBuilder(Uri) { Path = string.Concat(path.AsSpan(0, slash + 1), "scrape", path.AsSpan(slash + 1 + "announce".Length)) };
            return builder.Uri;
        }
    }

    /// <inheritdoc />
    public async Task<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        var query = new StringBuilder(Uri.Query.TrimStart('?'));
        TrackerQuery.Append(query, "info_hash", request.InfoHash20);
        TrackerQuery.Append(query, "peer_id", request.PeerId.Span);
        TrackerQuery.Append(query, "port", request.Port.ToString(CultureInfo.InvariantCulture));
        TrackerQuery.Append(query, "uploaded", request.Uploaded.ToString(CultureInfo.InvariantCulture));
        TrackerQuery.Append(query, "downloaded", request.Downloaded.ToString(CultureInfo.InvariantCulture));
        TrackerQuery.Append(query, "left", request.Left.ToString(CultureInfo.InvariantCulture));
        TrackerQuery.Append(query, "compact", "1");
        TrackerQuery.Append(query, "key", request.Key.ToString("x8", CultureInfo.InvariantCulture));
        if (request.NumWant >= 0)
        {
            TrackerQuery.Append(query, "numwant", request.NumWant.ToString(CultureInfo.InvariantCulture));
        }

        if (request.Event != AnnounceEvent.None)
        {
            TrackerQuery.Append(query, "event", request.Event.ToString().ToLowerInvariant());
        }

        if ((request.TrackerId ?? _trackerId) is { } trackerId)
        {
            TrackerQuery.Append(query, "trackerid", trackerId);
        }

        byte[] body = await GetAsync(WithQuery(Uri, query), cancellationToken).ConfigureAwait(false);
        AnnounceResponse response = HttpTrackerResponse.ParseAnnounce(body, Uri, _options.MaxPeersPerResponse) with { Source = Source };
        if (response.TrackerId is not null)
        {
            _trackerId = response.TrackerId;
        }

        if (response.WarningMessage is not null)
        {
            Log.TrackerWarning(_logger, Uri, response.WarningMessage);
        }

        Log.TrackerAnnounced(_logger, Uri, request.Event, response.Peers.Count, response.Interval);
        return response;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<InfoHash, ScrapeStats>> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(infoHashes);
        Uri scrape = ScrapeUri ?? throw new NotSupportedException($"The tracker {Uri} has no scrape address (its path does not end in 'announce', BEP 48).");
        var query = new StringBuilder(scrape.Query.TrimStart('?'));
        foreach (InfoHash hash in infoHashes)
        {
            TrackerQuery.Append(query, "info_hash", hash.Truncated20);
        }

        byte[] body = await GetAsync(WithQuery(scrape, query), cancellationToken).ConfigureAwait(false);
        return HttpTrackerResponse.ParseScrape(body, Uri, infoHashes);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private IPAddress? Source
    {
        get
        {
            lock (_sourceLock)
            {
                return _source;
            }
        }
    }

    /// <summary>Opens a connection for our own handler, and remembers where it went.</summary>
    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            socket.Dispose();
            throw;
        }

        // A connection to a proxy (the host is not the request's) does not tell where the tracker is.
        Uri? target = context.InitialRequestMessage.RequestUri;
        bool direct = target is not null && target.Port == context.DnsEndPoint.Port && string.Equals(target.IdnHost, context.DnsEndPoint.Host, StringComparison.OrdinalIgnoreCase);
        IPAddress address = ((IPEndPoint)socket.RemoteEndPoint!).Address;
        address = !direct ? IPAddress.None : address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        lock (_sourceLock)
        {
            if (_source is null || IPAddress.IsLoopback(_source))
            {
                _source = address;
            }
        }

        return new NetworkStream(socket, ownsSocket: true);
    }

    private static Uri WithQuery(Uri uri, StringBuilder query)
    {
        // Built as text: the values are already percent-encoded and must reach the tracker byte for byte.
        string text = query.ToString();
        return new Uri(uri.GetLeftPart(UriPartial.Path) + (text.StartsWith('?') ? text : "?" + text));
    }

    private async Task<byte[]> GetAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.HttpRequestTimeout);
        try
        {
            using var message = new HttpRequestMessage(HttpMethod.Get, uri);
            message.Headers.UserAgent.Add(new ProductInfoHeaderValue("BlockTorrent", "0.1"));
            using HttpResponseMessage response = await _http.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            if (response.Content.Headers.ContentLength > _options.MaxResponseBytes)
            {
                throw new TrackerException($"The tracker {Uri} sent {response.Content.Headers.ContentLength} bytes, more than the limit of {_options.MaxResponseBytes}.");
            }

            byte[] body = await ReadBoundedAsync(response.Content, timeout.Token).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                // A refusal often comes with a bencoded failure reason; prefer it to the bare status.
                try
                {
                    HttpTrackerResponse.ParseAnnounce(body, Uri, 0);
                }
                catch (TrackerException e) when (e.IsFailureReason)
                {
                    throw;
                }
                catch (TrackerException)
                {
                    // Not bencode: report the status below.
                }

                throw new TrackerException($"The tracker {Uri} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}.");
            }

            return body;
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TrackerException($"The tracker {Uri} did not answer within {_options.HttpRequestTimeout}.", e);
        }
        catch (HttpRequestException e)
        {
            throw new TrackerException($"The tracker {Uri} is unreachable: {e.Message}", e);
        }
    }

    private async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        using Stream stream = await content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        byte[] buffer = new byte[Math.Min(_options.MaxResponseBytes + 1, 64 * 1024)];
        using var body = new MemoryStream();
        while (true)
        {
            int read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return body.ToArray();
            }

            if (body.Length + read > _options.MaxResponseBytes)
            {
                throw new TrackerException($"The tracker {Uri} sent more than the limit of {_options.MaxResponseBytes} bytes.");
            }

            body.Write(buffer, 0, read);
        }
    }
}

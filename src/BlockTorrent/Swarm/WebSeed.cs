using System.Net;
using System.Net.Http.Headers;

namespace BlockTorrent.Swarm;

/// <summary>
/// One web seed (BEP 19) of a single-file torrent: an HTTP(S) server holding the image's bytes, read by range
/// requests. To the picker it is a peer that has every piece and never chokes; its bytes are verified like any
/// peer's before anything is written, and it is dropped after as many failed pieces as a peer would be banned for.
/// </summary>
internal sealed class WebSeed
{
    private readonly HttpClient _http;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="url">The URL as the manifest gives it.</param>
    /// <param name="name">The torrent's name, appended to a URL that ends with a slash (BEP 19).</param>
    /// <param name="http">The client the requests go through.</param>
    /// <param name="pieceCount">The torrent's piece count.</param>
    public WebSeed(Uri url, string name, HttpClient http, int pieceCount)
    {
        Url = ResolveFile(url, name);
        _http = http;
        Pick = new PickerPeer(pieceCount) { IsChokingUs = false };
        Pick.Has.SetAll();
    }

    /// <summary>Gets the URL of the image's bytes.</summary>
    public Uri Url { get; }

    /// <summary>Gets the web seed as the picker sees it: every piece, never choking.</summary>
    public PickerPeer Pick { get; }

    /// <summary>Gets or sets how many pieces it sent failed their hash (under the swarm's lock).</summary>
    public int HashFailures { get; set; }

    /// <summary>Gets or sets a value indicating whether it was dropped for sending corrupt pieces.</summary>
    public bool IsDropped { get; set; }

    /// <summary>
    /// Gets the URL of a single-file torrent's bytes (BEP 19): a URL ending with a slash names a folder, and the file
    /// in it is the torrent's name; any other URL is the file itself.
    /// </summary>
    /// <param name="url">The URL from the manifest.</param>
    /// <param name="name">The torrent's name.</param>
    /// <returns>The file's URL.</returns>
    public static Uri ResolveFile(Uri url, string name)
    {
        ArgumentNullException.ThrowIfNull(url);
        return url.AbsolutePath.EndsWith('/') ? new Uri(url, Uri.EscapeDataString(name)) : url;
    }

    /// <summary>Asks for the bytes at <paramref name="offset"/>; the answer must be exactly that range.</summary>
    /// <param name="offset">The image offset of the first byte.</param>
    /// <param name="length">The number of bytes.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The response, whose content holds exactly the range; the caller disposes it.</returns>
    /// <exception cref="HttpRequestException">The server did not answer with that range.</exception>
    public async Task<HttpResponseMessage> GetRangeAsync(long offset, int length, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Url);
        request.Headers.Range = new RangeHeaderValue(offset, offset + length - 1);
        HttpResponseMessage response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        string? problem = response.StatusCode != HttpStatusCode.PartialContent
            ? $"answered {(int)response.StatusCode} {response.ReasonPhrase} to a range request (it must support ranges)"
            : response.Content.Headers.ContentRange is not { From: { } from, To: { } to } || from != offset || to != offset + length - 1
                ? $"answered another range ({response.Content.Headers.ContentRange}) than bytes {offset}-{offset + length - 1}"
                : null;
        if (problem is not null)
        {
            response.Dispose();
            throw new HttpRequestException(problem);
        }

        return response;
    }
}

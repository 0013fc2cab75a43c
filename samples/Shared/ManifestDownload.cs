using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Manifest;

namespace BlockTorrent.Samples;

/// <summary>
/// Fetches a .torrent over http(s), such as a depot's <c>/images/NAME.torrent</c>, checking an https server against a
/// <see cref="ServerTrust"/> before anything is sent to it. A server that is refused raises
/// <see cref="ServerNotTrustedException"/>, which names the certificate presented and what was trusted; a server that
/// is not up, or answers with an error, raises <see cref="HttpRequestException"/>. Compiled into both samples
/// (samples/Shared).
/// </summary>
internal sealed class ManifestDownload : IDisposable
{
    /// <summary>The most a .torrent download may be; a disk image's manifest is far smaller.</summary>
    private const int MaxTorrentBytes = 64 * 1024 * 1024;
    private static readonly HttpRequestOptionsKey<string> Refusal = new("BlockTorrent.ServerRefused");
    private readonly HttpClient _http;

    /// <summary>Initializes a new instance.</summary>
    /// <param name="trust">Which https servers are trusted.</param>
    /// <param name="timeout">How long one request may take.</param>
    public ManifestDownload(ServerTrust trust, TimeSpan timeout)
    {
        Trust = trust;
        var handler = new HttpClientHandler
        {
            // The callback sees the request whose connection it checks: the refusal travels back on it.
            ServerCertificateCustomValidationCallback = (request, certificate, chain, errors) => Check(request, certificate, chain, errors),
        };
        _http = new HttpClient(handler) { Timeout = timeout, MaxResponseContentBufferSize = MaxTorrentBytes };
    }

    /// <summary>Gets which https servers are trusted.</summary>
    public ServerTrust Trust { get; }

    /// <summary>Gets the fingerprint (<c>SHA256:HEX</c>) of the certificate the last trusted https server presented; <see langword="null"/> before one did.</summary>
    public string? ServerFingerprint { get; private set; }

    /// <summary>Returns whether <paramref name="uri"/> is an http or https URL this class fetches.</summary>
    /// <param name="text">The text given for an image.</param>
    /// <param name="uri">The URL.</param>
    /// <returns><see langword="true"/> for an http or https URL.</returns>
    public static bool IsUrl(string text, out Uri uri)
    {
        uri = null!;
        if (Uri.TryCreate(text, UriKind.Absolute, out Uri? parsed) && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps))
        {
            uri = parsed;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Returns the info-hash a URL pins with a <c>#btih=HEX</c> fragment (which is never sent to the server), or
    /// <see langword="null"/> when it pins none.
    /// </summary>
    /// <param name="uri">The URL.</param>
    /// <returns>The hexadecimal info-hash as written, or <see langword="null"/>.</returns>
    public static string? PinnedInfoHash(Uri uri)
    {
        string fragment = uri.Fragment;
        return fragment.StartsWith("#btih=", StringComparison.OrdinalIgnoreCase) ? fragment["#btih=".Length..] : null;
    }

    /// <summary>Fetches and parses the .torrent at <paramref name="uri"/>.</summary>
    /// <param name="uri">The URL; a fragment is not sent.</param>
    /// <param name="cancellationToken">Cancels the download.</param>
    /// <returns>The manifest.</returns>
    /// <exception cref="ServerNotTrustedException">The https server's certificate is not trusted; nothing was sent to it.</exception>
    /// <exception cref="HttpRequestException">The server cannot be reached or answered with an error status.</exception>
    /// <exception cref="TimeoutException">The server did not answer in time.</exception>
    /// <exception cref="InvalidTorrentException">The answer is not a valid .torrent.</exception>
    public async Task<TorrentManifest> GetAsync(Uri uri, CancellationToken cancellationToken)
    {
        Uri address = new UriBuilder(uri) { Fragment = string.Empty }.Uri;
        using var request = new HttpRequestMessage(HttpMethod.Get, address);
        byte[] bytes;
        try
        {
            using HttpResponseMessage response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"{address} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}", null, response.StatusCode);
            }

            bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (request.Options.TryGetValue(Refusal, out string? reason))
        {
            throw new ServerNotTrustedException($"the server {address.Authority} was refused: {reason}", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{address} did not answer within {_http.Timeout.TotalSeconds:0} s.", e);
        }

        try
        {
            return TorrentManifest.Parse(bytes);
        }
        catch (InvalidTorrentException e)
        {
            throw new InvalidTorrentException($"{address} did not return a valid .torrent: {e.Message}", e);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    private bool Check(HttpRequestMessage request, X509Certificate2? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (Trust.Validate(certificate, chain, errors, out string? reason))
        {
            ServerFingerprint = ServerTrust.FingerprintOf(certificate!);
            return true;
        }

        request.Options.Set(Refusal, reason!);
        return false;
    }
}

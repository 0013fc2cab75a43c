using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;
using BlockTorrent.Service.Enrolment;
using BlockTorrent.Service.Options;
using Microsoft.Extensions.Options;

namespace BlockTorrent.Service.Target;

/// <summary>
/// A target's enrolment at its depot: a key made and kept here (<see cref="KeyFileName"/>, mode 0600; it never
/// leaves the machine), a certificate signing request for it posted to the depot's <c>POST /enroll</c> over the
/// checked HTTPS connection with <c>Target:ReportToken</c>, and the answer kept beside it (<see cref="FileName"/>):
/// the swarm certificate, the swarm authority and the anchors the depot's manifests are signed to. It belongs to the
/// depot whose HTTPS certificate was presented then, and is reused across restarts while that depot serves the
/// manifest; it is renewed when a third of the certificate's life is left, when the depot has no enrolment of this
/// target, when the enrolment lacks what the manifest needs (anchors, or a certificate for a TLS swarm), and when a
/// manifest signed by an enrolled anchor names another swarm authority. The anchors themselves are never replaced by
/// a new enrolment while they are kept: a manifest signed by another key is refused.
/// </summary>
internal sealed class TargetEnrolment(IOptions<ImagingServiceOptions> options, ILoggerFactory loggerFactory)
{
    /// <summary>The file, in the state folder, of the target's enrolled key (PKCS#8 PEM, mode 0600).</summary>
    public const string KeyFileName = "enrolment.key.pem";

    /// <summary>The file, in the state folder, of the depot's answer (JSON: certificate, authority, trust anchors, depot).</summary>
    public const string FileName = "enrolment.json";

    private readonly ILogger _logger = loggerFactory.CreateLogger("BlockTorrent.Service.Target");

    /// <summary>Whether a target enrols: an https image URL, and trust or a swarm certificate not configured.</summary>
    /// <param name="target">The target's settings.</param>
    /// <param name="depot">The image's URL.</param>
    /// <returns><see langword="true"/> when the target enrols.</returns>
    public static bool IsWanted(TargetOptions target, out Uri depot)
    {
        return ManifestDownload.IsUrl(target.Image?.Trim() ?? string.Empty, out depot)
            && depot.Scheme == Uri.UriSchemeHttps
            && ((target.RequireSignature && string.IsNullOrWhiteSpace(target.Trust)) || string.IsNullOrWhiteSpace(target.TlsCertificate));
    }

    /// <summary>Returns the enrolment for the depot that served <paramref name="manifest"/>: the one kept, or a new one.</summary>
    /// <param name="image">The image's URL (the depot's origin is enrolled at).</param>
    /// <param name="depotFingerprint">The fingerprint of the certificate the depot presented when it served the manifest.</param>
    /// <param name="manifest">The manifest it served.</param>
    /// <param name="cancellationToken">Stops waiting for the depot.</param>
    /// <returns>What the enrolment gives the deployment.</returns>
    /// <exception cref="InvalidOperationException">The depot refused the enrolment, or its answer is not usable; the message says why.</exception>
    public async Task<EnrolledCredentials> GetAsync(Uri image, string? depotFingerprint, TorrentManifest manifest, CancellationToken cancellationToken)
    {
        string state = options.Value.StateDirectory ?? ResumeFiles.StateFolder();
        string keyPath = Path.Combine(state, KeyFileName);
        string answerPath = Path.Combine(state, FileName);
        EnrolmentAnswer? kept = Read(answerPath, keyPath);
        string depotUrl = image.GetLeftPart(UriPartial.Authority);
        if (kept is not null && kept.Depot == depotFingerprint && StillServes(kept, manifest, out ManifestTrust? keptTrust) && TryCredentials(kept, keyPath, keptTrust) is { } reused)
        {
            Log.TargetEnrolled(_logger, depotUrl, "kept", reused.Certificate?.Subject ?? "(none: plain swarms)", kept.Signer ?? "(nobody: the depot signs nothing)");
            return reused;
        }

        // The anchors of an enrolment at the same depot stay: a new enrolment brings a certificate, not another key to trust.
        string? anchors = kept is not null && kept.Depot == depotFingerprint ? kept.Trust : null;
        string? signer = anchors is null ? null : kept!.Signer;
        if (await EnrolAsync(image, keyPath, cancellationToken).ConfigureAwait(false) is not (EnrolmentAnswer answer, string keyPem))
        {
            // No enrolment there, and this target needs no anchors from it: it deploys with what it is configured with.
            Log.TargetEnrolled(_logger, depotUrl, "not offered", "(none)", "(nobody: the target does not require signatures)");
            return new EnrolledCredentials(null, null, null);
        }

        if (anchors is not null)
        {
            answer.Trust = anchors;
            answer.Signer = signer;
        }

        ManifestTrust? trust = ParseTrust(answer.Trust, depotUrl);
        Http.DepotCertificate.WriteReplacing(answerPath, JsonSerializer.Serialize(answer, EnrolmentJson.Default.EnrolmentAnswer), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        EnrolledCredentials credentials = Credentials(answer, keyPem, trust);
        Log.TargetEnrolled(_logger, depotUrl, "enrolled", credentials.Certificate?.Subject ?? "(none: plain swarms)", answer.Signer ?? "(nobody: the depot signs nothing)");
        return credentials;
    }

    /// <summary>Whether a kept enrolment still serves this manifest, and its trust when it does.</summary>
    private static bool StillServes(EnrolmentAnswer kept, TorrentManifest manifest, out ManifestTrust? trust)
    {
        trust = null;
        if (kept.Trust is not null)
        {
            try
            {
                trust = ManifestTrust.FromPem(kept.Trust);
            }
            catch (ArgumentException)
            {
                return false;
            }
        }

        if (kept.Certificate is null)
        {
            // Enrolled while the depot's swarms were plain (or it held no authority's key): a TLS manifest needs a certificate.
            return manifest.SwarmAuthority is null && trust is not null;
        }

        using X509Certificate2 certificate = X509Certificate2.CreateFromPem(kept.Certificate);
        DateTimeOffset now = DateTimeOffset.UtcNow;
        TimeSpan lifetime = certificate.NotAfter - certificate.NotBefore;
        if (certificate.NotAfter - now.UtcDateTime < lifetime / 3 || trust is null)
        {
            return false;
        }

        if (manifest.SwarmAuthority is not { } named || kept.Authority is null)
        {
            return true;
        }

        using X509Certificate2 enrolledAuthority = X509Certificate2.CreateFromPem(kept.Authority);
        if (named.RawData.AsSpan().SequenceEqual(enrolledAuthority.RawData))
        {
            return true;
        }

        // Another authority: renew only when the depot's own key vouches for it; any other manifest is refused later as it is.
        return !IsSignedBy(trust, manifest);
    }

    private static bool IsSignedBy(ManifestTrust trust, TorrentManifest manifest)
    {
        try
        {
            trust.Verify(manifest);
            return true;
        }
        catch (ManifestTrustException)
        {
            return false;
        }
    }

    private static EnrolmentAnswer? Read(string answerPath, string keyPath)
    {
        if (!File.Exists(answerPath) || !File.Exists(keyPath))
        {
            return null;
        }

        try
        {
            return EnrolmentAnswer.Parse(File.ReadAllBytes(answerPath));
        }
        catch (Exception e) when (e is JsonException or IOException)
        {
            return null;
        }
    }

    private static ManifestTrust? ParseTrust(string? pem, string depot)
    {
        try
        {
            return pem is null ? null : ManifestTrust.FromPem(pem);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"the depot {depot} answered the enrolment with trust anchors that cannot be read: {e.Message}", e);
        }
    }

    /// <summary>The credentials of a kept enrolment; <see langword="null"/> when its key and certificate do not match (a write was cut short).</summary>
    private static EnrolledCredentials? TryCredentials(EnrolmentAnswer kept, string keyPath, ManifestTrust? trust)
    {
        try
        {
            return Credentials(kept, File.ReadAllText(keyPath), trust);
        }
        catch (Exception e) when (e is CryptographicException or IOException)
        {
            return null;
        }
    }

    private static EnrolledCredentials Credentials(EnrolmentAnswer answer, string keyPem, ManifestTrust? trust)
    {
        if (answer.Certificate is null)
        {
            return new EnrolledCredentials(null, trust, answer.Signer);
        }

        using X509Certificate2 withKey = X509Certificate2.CreateFromPem(answer.Certificate, keyPem);

        // A key read from PEM cannot serve TLS on every platform; a PKCS#12 round trip gives one that can.
        return new EnrolledCredentials(X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), password: null), trust, answer.Signer);
    }

    /// <summary>
    /// Enrols a new key; returns the depot's answer and the key (PEM), which is also written to <paramref name="keyPath"/>;
    /// <see langword="null"/> when the server offers no enrolment and the target does not need the depot's anchors.
    /// </summary>
    private async Task<(EnrolmentAnswer Answer, string KeyPem)?> EnrolAsync(Uri image, string keyPath, CancellationToken cancellationToken)
    {
        TargetOptions target = options.Value.Target;
        Uri enroll = new(image.GetLeftPart(UriPartial.Authority) + "/enroll");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={Dns.GetHostName()}", key, HashAlgorithmName.SHA256);
        byte[] csr = request.CreateSigningRequest();
        ServerTrust trust = ServerTrust.Create(target.ServerCertificate, target.ServerFingerprint);
        string? presented = null;
        using var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (request, certificate, chain, errors) =>
            {
                bool trusted = trust.Validate(certificate, chain, errors, out string? _);
                presented = trusted ? ServerTrust.FingerprintOf(certificate!) : null;
                return trusted;
            },
        };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30), MaxResponseContentBufferSize = EnrolmentAnswer.MaxLength };
        while (true)
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, enroll) { Content = new ByteArrayContent(csr) };
            message.Content.Headers.ContentType = new MediaTypeHeaderValue("application/pkcs10");
            if (!string.IsNullOrEmpty(target.ReportToken))
            {
                message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", target.ReportToken);
            }

            string reason;
            try
            {
                using HttpResponseMessage response = await http.SendAsync(message, cancellationToken).ConfigureAwait(false);
                string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                switch (response.StatusCode)
                {
                    case HttpStatusCode.OK:
                        EnrolmentAnswer answer = ParseAnswer(text, enroll, key);
                        answer.Depot = presented;

                        // The key is kept only once the depot has certified it, readable by the service alone.
                        string keyPem = key.ExportPkcs8PrivateKeyPem();
                        Http.DepotCertificate.WriteReplacing(keyPath, keyPem, UnixFileMode.UserRead | UnixFileMode.UserWrite);
                        return (answer, keyPem);
                    case HttpStatusCode.Unauthorized:
                        throw new InvalidOperationException($"the depot {enroll.Authority} refused to enrol this target (401): set {ImagingServiceOptions.Section}:Target:ReportToken to the depot's StatusToken (a depot without one enrols only targets on its own machine). Nothing was written.");
                    case HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed when !target.RequireSignature || !string.IsNullOrWhiteSpace(target.Trust):
                        return null;
                    case HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed:
                        throw new InvalidOperationException($"the depot {enroll.Authority} offers no enrolment ({(int)response.StatusCode}): give this target {ImagingServiceOptions.Section}:Target:Trust (and Target:TlsCertificate for a TLS swarm), or set Target:RequireSignature to false to deploy unsigned manifests. Nothing was written.");
                    case >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError when response.StatusCode != HttpStatusCode.TooManyRequests:
                        throw new InvalidOperationException($"the depot {enroll.Authority} refused the enrolment ({(int)response.StatusCode}): {text.Trim()}. Nothing was written.");
                    default:
                        reason = $"HTTP {(int)response.StatusCode} {text.Trim()}";
                        break;
                }
            }
            catch (HttpRequestException e) when (presented is null && e.HttpRequestError == HttpRequestError.SecureConnectionError)
            {
                throw new ServerNotTrustedException($"the server {enroll.Authority} was refused for enrolment: it is not {trust.Describe()}", e);
            }
            catch (HttpRequestException e)
            {
                reason = e.Message;
            }
            catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                reason = e.Message;
            }

            Log.ManifestRetry(_logger, enroll.ToString(), reason, target.RetryInterval);
            await Task.Delay(target.RetryInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Reads the depot's answer, checking that its certificate is for this target's key and issued by the authority it names.</summary>
    private static EnrolmentAnswer ParseAnswer(string text, Uri enroll, ECDsa key)
    {
        EnrolmentAnswer answer;
        try
        {
            answer = EnrolmentAnswer.Parse(System.Text.Encoding.UTF8.GetBytes(text));
            if (answer.Certificate is not null)
            {
                using X509Certificate2 certificate = X509Certificate2.CreateFromPem(answer.Certificate);
                using X509Certificate2 authority = X509Certificate2.CreateFromPem(answer.Authority ?? throw new JsonException("a certificate without its authority"));
                if (!certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(key.ExportSubjectPublicKeyInfo()))
                {
                    throw new JsonException("the certificate is not for this target's key");
                }

                if (!SwarmCertificates.Admits(authority, SwarmCertificates.AnyTorrent, certificate, null, out string? reason))
                {
                    throw new JsonException(reason);
                }
            }
        }
        catch (Exception e) when (e is JsonException or CryptographicException)
        {
            throw new InvalidOperationException($"the depot {enroll.Authority} answered the enrolment with something this target cannot use: {e.Message}. Nothing was written.", e);
        }

        return answer;
    }
}

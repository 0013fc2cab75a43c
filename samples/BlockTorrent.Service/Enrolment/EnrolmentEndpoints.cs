using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;
using BlockTorrent.Service.Depot;
using BlockTorrent.Service.Http;

namespace BlockTorrent.Service.Enrolment;

/// <summary>
/// <c>POST /enroll</c> on the depot's HTTPS manifests address: a target sends a PKCS#10 certificate signing request
/// for an ECDSA P-256 key it keeps (DER as <c>application/pkcs10</c>, or PEM), and gets back an
/// <see cref="EnrolmentAnswer"/>: a peer certificate for every torrent (<c>*</c>) the depot's swarm authority issues
/// for that key, valid for <see cref="CertificateLifetime"/>, the authority's certificate, and the anchors its
/// manifests are signed to. <see cref="StatusToken"/> guards it as target reports: the token, or, on a depot without
/// one, a source on its own machine. It is answered over HTTPS only; over plain HTTP it does not exist.
/// </summary>
internal static class EnrolmentEndpoints
{
    /// <summary>How long an issued certificate is valid: a stolen one is useless after this, and a target renews once a third is left.</summary>
    public static readonly TimeSpan CertificateLifetime = TimeSpan.FromDays(30);

    /// <summary>The largest request read: a P-256 request is a few hundred bytes.</summary>
    private const int MaxRequestLength = 8 * 1024;

    public static void Map(WebApplication app, HttpEndPoints http, Action<ServedEndPoint?, RouteHandlerBuilder> onlyAt)
    {
        if (http.Manifests is not { WantsHttps: true } manifestsAt)
        {
            return;
        }

        onlyAt(manifestsAt, app.MapPost("/enroll", (HttpContext context, DepotCredentials credentials, ILoggerFactory loggers) =>
            EnrolAsync(context, credentials, loggers.CreateLogger("BlockTorrent.Service.Depot"))));
    }

    private static async Task<IResult> EnrolAsync(HttpContext context, DepotCredentials credentials, ILogger logger)
    {
        IPAddress? source = context.Connection.RemoteIpAddress;
        if (!context.Request.IsHttps)
        {
            return Refuse(logger, source, StatusCodes.Status404NotFound, "enrolment is answered over HTTPS only");
        }

        if (context.Request.ContentLength > MaxRequestLength)
        {
            return Refuse(logger, source, StatusCodes.Status413PayloadTooLarge, $"a certificate request is at most {MaxRequestLength} bytes");
        }

        byte[] body = new byte[MaxRequestLength + 1];
        int length = 0;
        int read;
        while (length < body.Length && (read = await context.Request.Body.ReadAsync(body.AsMemory(length), context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            length += read;
        }

        if (length > MaxRequestLength)
        {
            return Refuse(logger, source, StatusCodes.Status413PayloadTooLarge, $"a certificate request is at most {MaxRequestLength} bytes");
        }

        CertificateRequest request;
        try
        {
            request = ReadRequest(body.AsSpan(0, length));
        }
        catch (CryptographicException e)
        {
            return Refuse(logger, source, StatusCodes.Status400BadRequest, $"the body is not a PKCS#10 certificate request signed by its key (DER as application/pkcs10, or PEM): {e.Message}");
        }

        using (ECDsa? key = request.PublicKey.GetECDsaPublicKey())
        {
            if (key is null || key.KeySize != 256)
            {
                return Refuse(logger, source, StatusCodes.Status400BadRequest, $"the request's key must be ECDSA P-256; it is {request.PublicKey.Oid.FriendlyName ?? request.PublicKey.Oid.Value}");
            }
        }

        DepotSigner? signer;
        DepotSwarmTls tls;
        try
        {
            signer = credentials.Signer;
            tls = credentials.Tls;
        }
        catch (ArgumentException e)
        {
            return Refuse(logger, source, StatusCodes.Status503ServiceUnavailable, $"the depot's keys cannot be used: {e.Message}");
        }

        var answer = new EnrolmentAnswer
        {
            Authority = tls.Authority?.ExportCertificatePem(),
            Trust = signer?.TrustAnchorsPem,
            Signer = signer?.Fingerprint,
        };
        if (tls.Issuer is { } issuer)
        {
            using X509Certificate2 issued = SwarmCertificates.Issue(issuer, request.PublicKey, SwarmCertificates.AnyTorrent, CertificateLifetime);
            answer.Certificate = issued.ExportCertificatePem();
            Log.Enrolled(logger, source ?? IPAddress.None, ServerTrust.FingerprintOf(issued), issued.NotAfter.ToUniversalTime());
        }

        return Results.Bytes(answer.ToJson(), "application/json");
    }

    /// <summary>Reads a request in DER or PEM, checking that it is signed by the key it names (proof the sender holds it).</summary>
    private static CertificateRequest ReadRequest(ReadOnlySpan<byte> body)
    {
        if (body.StartsWith("-----BEGIN"u8))
        {
            return CertificateRequest.LoadSigningRequestPem(System.Text.Encoding.ASCII.GetString(body), HashAlgorithmName.SHA256);
        }

        CertificateRequest request = CertificateRequest.LoadSigningRequest(body, HashAlgorithmName.SHA256, out int consumed);
        return consumed == body.Length ? request : throw new CryptographicException($"{body.Length - consumed} bytes follow the request");
    }

    private static IResult Refuse(ILogger logger, IPAddress? source, int status, string reason)
    {
        Log.EnrolmentRefused(logger, source, reason);
        return Results.Text(reason + "\n", "text/plain; charset=utf-8", statusCode: status);
    }
}

using System.Net;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;
using Microsoft.Extensions.Options;

namespace BlockTorrent.Service.Options;

/// <summary>
/// Checks the settings when the service starts, so a bad appsettings.json stops it at once with every problem
/// named by its configuration key, rather than failing later in the middle of a deployment.
/// </summary>
internal sealed class ImagingServiceOptionsValidator : IValidateOptions<ImagingServiceOptions>
{
    public ValidateOptionsResult Validate(string? name, ImagingServiceOptions options)
    {
        var failures = new List<string>();
        const string S = ImagingServiceOptions.Section;
        CheckEndPoint(failures, $"{S}:Listen", options.Listen);
        CheckEndPoint(failures, $"{S}:Status", options.Status);
        if (!string.IsNullOrEmpty(options.Metrics))
        {
            CheckEndPoint(failures, $"{S}:Metrics", options.Metrics);
        }

        if (string.IsNullOrEmpty(options.StatusToken))
        {
            CheckLoopbackWithoutToken(failures, $"{S}:Status", options.Status);
            CheckLoopbackWithoutToken(failures, $"{S}:Metrics", options.Metrics);
            if (options.ParsedRole == ServiceRole.Depot)
            {
                CheckLoopbackWithoutToken(failures, $"{S}:Depot:Fleet", options.Depot.Fleet);
            }
        }

        if (options.MaxUploadRate < 0 || options.MaxDownloadRate < 0)
        {
            failures.Add($"{S}:MaxUploadRate and {S}:MaxDownloadRate must be 0 (no limit) or a rate in bytes per second; they are {options.MaxUploadRate} and {options.MaxDownloadRate}.");
        }

        switch (options.ParsedRole)
        {
            case ServiceRole.Depot:
                ValidateDepot(failures, options.Depot);
                break;
            case ServiceRole.Target:
                ValidateTarget(failures, options.Target);
                break;
            default:
                failures.Add($"{S}:Role must be 'Depot' (seed the images in a folder) or 'Target' (deploy an image to a device); it is '{options.Role}'.");
                break;
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Parses a role name, ignoring case; anything else is <see cref="ServiceRole.None"/>.</summary>
    public static ServiceRole ParseRole(string? text) =>
        Enum.TryParse(text?.Trim(), ignoreCase: true, out ServiceRole role) && Enum.IsDefined(role) && role != ServiceRole.None && !int.TryParse(text, out _) ? role : ServiceRole.None;

    /// <summary>Parses ADDR:PORT as the settings write it (<c>0.0.0.0:6881</c>, <c>[::1]:8580</c>).</summary>
    public static bool TryParseEndPoint(string? text, out IPEndPoint endPoint)
    {
        endPoint = new IPEndPoint(IPAddress.None, 0);
        if (string.IsNullOrWhiteSpace(text) || !text.Contains(':', StringComparison.Ordinal) || !IPEndPoint.TryParse(text.Trim(), out IPEndPoint? parsed))
        {
            return false;
        }

        endPoint = parsed;
        return true;
    }

    private static void CheckLoopbackWithoutToken(List<string> failures, string key, string? value)
    {
        if (TryParseEndPoint(value, out IPEndPoint endPoint) && Http.StatusToken.IsBeyondLoopback(endPoint.Address))
        {
            failures.Add($"{key} '{value}' is reachable from other machines: set {ImagingServiceOptions.Section}:StatusToken to a secret (clients send 'Authorization: Bearer TOKEN'), or bind it to 127.0.0.1.");
        }
    }

    private static void ValidateDepot(List<string> failures, DepotOptions depot)
    {
        const string S = $"{ImagingServiceOptions.Section}:Depot";
        if (string.IsNullOrWhiteSpace(depot.ImageFolder))
        {
            failures.Add($"{S}:ImageFolder must name the folder that holds the images.");
        }
        else if (!Directory.Exists(depot.ImageFolder))
        {
            failures.Add($"{S}:ImageFolder '{depot.ImageFolder}' does not exist.");
        }

        if (string.IsNullOrWhiteSpace(depot.ImagePattern) || depot.ImagePattern.IndexOfAny(['/', '\\']) >= 0)
        {
            failures.Add($"{S}:ImagePattern must be a file-name pattern such as '*.img'.");
        }

        if (!string.IsNullOrEmpty(depot.Tracker))
        {
            CheckEndPoint(failures, $"{S}:Tracker", depot.Tracker);
        }

        if (!string.IsNullOrEmpty(depot.Manifests))
        {
            CheckEndPoint(failures, $"{S}:Manifests", depot.Manifests);
        }

        if (!string.IsNullOrEmpty(depot.Fleet))
        {
            CheckEndPoint(failures, $"{S}:Fleet", depot.Fleet);
        }

        for (int i = 0; i < depot.Webhooks.Count; i++)
        {
            if (!Uri.TryCreate(depot.Webhooks[i], UriKind.Absolute, out Uri? hook) || hook.Scheme is not ("http" or "https"))
            {
                failures.Add($"{S}:Webhooks:{i} '{depot.Webhooks[i]}' must be an http(s) URL.");
            }
        }

        if (depot.FleetSize < 0)
        {
            failures.Add($"{S}:FleetSize must be 0 (any) or more; it is {depot.FleetSize}.");
        }

        if (depot.WebhookAttempts < 1)
        {
            failures.Add($"{S}:WebhookAttempts must be at least 1; it is {depot.WebhookAttempts}.");
        }

        if (depot.WebhookRetryDelay <= TimeSpan.Zero)
        {
            failures.Add($"{S}:WebhookRetryDelay must be positive; it is {depot.WebhookRetryDelay}.");
        }

        if (!string.IsNullOrEmpty(depot.WebSeedUrl) && (!Uri.TryCreate(depot.WebSeedUrl, UriKind.Absolute, out Uri? webSeed) || (webSeed.Scheme != Uri.UriSchemeHttp && webSeed.Scheme != Uri.UriSchemeHttps)))
        {
            failures.Add($"{S}:WebSeedUrl must be an absolute http or https URL such as https://depot:8580/images/; it is '{depot.WebSeedUrl}'.");
        }

        if (depot.MaxUploadRatePerImage < 0)
        {
            failures.Add($"{S}:MaxUploadRatePerImage must be 0 (no limit) or a rate in bytes per second; it is {depot.MaxUploadRatePerImage}.");
        }

        if (depot.PieceSize != 0 && (depot.PieceSize < 16 * 1024 || (depot.PieceSize & (depot.PieceSize - 1)) != 0))
        {
            failures.Add($"{S}:PieceSize must be 0 (automatic) or a power of two of at least 16384 bytes; it is {depot.PieceSize}.");
        }

        if (depot.RescanInterval < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{S}:RescanInterval must be at least 1 second; it is {depot.RescanInterval}.");
        }

        if (depot.SettleTime < TimeSpan.Zero)
        {
            failures.Add($"{S}:SettleTime must not be negative; it is {depot.SettleTime}.");
        }

        if (depot.Https && !string.IsNullOrWhiteSpace(depot.Certificate))
        {
            try
            {
                Http.DepotCertificate.Load(depot.Certificate, depot.CertificateKey).Dispose();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
            {
                failures.Add($"{S}:Certificate '{depot.Certificate}' must be a PEM certificate with its private key (or the key in {S}:CertificateKey), or a PKCS#12 file without a password: {e.Message}");
            }
        }

        if (!string.IsNullOrWhiteSpace(depot.SigningKey))
        {
            try
            {
                Depot.DepotSigner.Load(depot)?.Dispose();
            }
            catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                failures.Add($"{S}:SigningKey / {S}:SigningCertificate: the key must be a PEM file of an ECDSA P-256 private key (blocktorrent keygen makes one), and the certificate chain start with its certificate: {e.Message}");
            }
        }
        else if (!string.IsNullOrWhiteSpace(depot.SigningCertificate))
        {
            failures.Add($"{S}:SigningCertificate is the certificate chain of {S}:SigningKey: set the key too.");
        }

        if (depot.SignatureLifetime < TimeSpan.Zero || (depot.SignatureLifetime > TimeSpan.Zero && depot.SignatureLifetime <= 2 * depot.RescanInterval))
        {
            failures.Add($"{S}:SignatureLifetime must be 0 (no expiry) or longer than twice {S}:RescanInterval ({2 * depot.RescanInterval}), so a signature is renewed before it expires; it is {depot.SignatureLifetime}.");
        }

        ValidateDepotTls(failures, depot);
    }

    private static void ValidateDepotTls(List<string> failures, DepotOptions depot)
    {
        const string S = $"{ImagingServiceOptions.Section}:Depot";
        if (!depot.TlsSwarm && !string.IsNullOrWhiteSpace(depot.SwarmAuthority))
        {
            failures.Add($"{S}:SwarmAuthority names the authority of the depot's TLS swarms: set {S}:TlsSwarm to true as well.");
        }

        if (!string.IsNullOrWhiteSpace(depot.TlsCertificate))
        {
            CheckCertificateWithKey(failures, $"{S}:TlsCertificate", depot.TlsCertificate, depot.TlsKey);
        }

        if (depot.TlsSwarm && !string.IsNullOrWhiteSpace(depot.SwarmAuthority))
        {
            if (string.IsNullOrWhiteSpace(depot.TlsCertificate))
            {
                // The depot issues its own peer certificate from the authority: it needs the authority's key.
                CheckCertificateWithKey(failures, $"{S}:SwarmAuthority", depot.SwarmAuthority, depot.SwarmAuthorityKey);
            }
            else
            {
                try
                {
                    TrustFiles.LoadCertificate(depot.SwarmAuthority).Dispose();
                }
                catch (ArgumentException e)
                {
                    failures.Add($"{S}:SwarmAuthority: {e.Message}");
                }
            }
        }
    }

    private static void CheckCertificateWithKey(List<string> failures, string key, string certificate, string? privateKey)
    {
        try
        {
            TrustFiles.LoadCertificateWithKey(certificate, privateKey).Dispose();
        }
        catch (ArgumentException e)
        {
            failures.Add($"{key}: {e.Message} (blocktorrent tls makes them; the key lies beside the certificate as NAME.key.pem unless its own setting names it)");
        }
    }

    private static void ValidateTarget(List<string> failures, TargetOptions target)
    {
        const string S = $"{ImagingServiceOptions.Section}:Target";
        if (!string.IsNullOrEmpty(target.ReportTo) && (!Uri.TryCreate(target.ReportTo, UriKind.Absolute, out Uri? depot) || depot.Scheme is not ("http" or "https")))
        {
            failures.Add($"{S}:ReportTo '{target.ReportTo}' must be the depot's http(s) URL (http://depot:8580), or empty for no reports.");
        }

        if (!string.IsNullOrEmpty(target.ReportToken) && !target.AllowPlainHttp && BlockTorrent.Service.Target.FleetReporter.ReportUri(target) is { Scheme: "http" } plain)
        {
            failures.Add($"{S}:ReportToken would travel in the clear to {plain}: report to the depot's https URL, or set {S}:AllowPlainHttp to true.");
        }

        string? image = target.Image?.Trim();
        if (string.IsNullOrEmpty(image))
        {
            failures.Add($"{S}:Image must be a .torrent path, an http(s) URL of a .torrent, or a magnet link.");
        }
        else if (image.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase))
        {
            if (!MagnetLink.TryParse(image, out _))
            {
                failures.Add($"{S}:Image '{image}' is not a valid magnet link (it needs xt=urn:btih:… or xt=urn:btmh:…).");
            }
        }
        else if (image.Contains("://", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(image, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                failures.Add($"{S}:Image '{image}' is not an http or https URL.");
            }
            else if (uri.Scheme == Uri.UriSchemeHttp && !target.AllowPlainHttp && string.IsNullOrWhiteSpace(target.Trust) && target.PinnedInfoHash is null)
            {
                failures.Add($"{S}:Image '{image}' is a plain http URL, and nothing else checks the manifest: anyone on the way could hand this target another image. Use the depot's https URL, or require signatures ({S}:Trust), or pin the image (#btih=HEX, {S}:InfoHash), or set {S}:AllowPlainHttp to true.");
            }
        }
        else if (!File.Exists(image))
        {
            failures.Add($"{S}:Image: no such .torrent file '{image}'.");
        }

        if (target.PinnedInfoHash is { } pinned && !(pinned.Length is 40 or 64 && pinned.All(char.IsAsciiHexDigit)))
        {
            failures.Add($"{S}:InfoHash (or the image URL's #btih=) '{pinned}' is not an info-hash: 40 (v1) or 64 (v2) hexadecimal digits.");
        }

        if (!string.IsNullOrWhiteSpace(target.Trust))
        {
            try
            {
                ManifestTrust.Load(target.Trust);
            }
            catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
            {
                failures.Add($"{S}:Trust must be a PEM file of trusted public keys or certificates: {e.Message}");
            }
        }

        try
        {
            ServerTrust.Create(target.ServerCertificate, target.ServerFingerprint);
        }
        catch (ArgumentException e)
        {
            failures.Add($"{S}:ServerCertificate / {S}:ServerFingerprint: {e.Message.Replace($" (Parameter '{e.ParamName}')", string.Empty, StringComparison.Ordinal)}");
        }

        if (!string.IsNullOrWhiteSpace(target.TlsCertificate))
        {
            CheckCertificateWithKey(failures, $"{S}:TlsCertificate", target.TlsCertificate, target.TlsKey);
        }

        if (string.IsNullOrWhiteSpace(target.Device))
        {
            failures.Add($"{S}:Device must name the device (for example /dev/sdb) or image file to write.");
        }

        foreach (string peer in target.Peers)
        {
            if (!TryParseEndPoint(peer, out IPEndPoint endPoint) || endPoint.Port == 0)
            {
                failures.Add($"{S}:Peers: '{peer}' is not ADDR:PORT (for example 10.0.0.1:6881).");
            }
        }

        foreach (string tracker in target.Trackers)
        {
            if (!Uri.TryCreate(tracker, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("http" or "https" or "udp"))
            {
                failures.Add($"{S}:Trackers: '{tracker}' is not an http, https or udp tracker URL.");
            }
        }

        if (target.SeedAfter is { } seedAfter && (seedAfter < TimeSpan.Zero || seedAfter > TargetOptions.MaxSeedAfter))
        {
            // Without SeedAfter a target seeds until stopped, or stops at once with StopWhenDone: a target cannot do both.
            failures.Add(target.StopWhenDone
                ? $"{S}:SeedAfter must be between 0 and {TargetOptions.MaxSeedAfter.TotalDays} days with {S}:StopWhenDone, which stops the service after seeding that long; it is {seedAfter}. To seed until the service is stopped, set StopWhenDone to false and leave SeedAfter out."
                : $"{S}:SeedAfter must be between 0 and {TargetOptions.MaxSeedAfter.TotalDays} days; it is {seedAfter}. Leave it out to seed until the service stops.");
        }

        if (target.RetryInterval < TimeSpan.FromMilliseconds(100))
        {
            failures.Add($"{S}:RetryInterval must be at least 100 ms; it is {target.RetryInterval}.");
        }

        if (target.StallTimeout <= TimeSpan.Zero && target.StallTimeout != Timeout.InfiniteTimeSpan)
        {
            failures.Add($"{S}:StallTimeout must be positive, or -00:00:00.001 to wait until the service stops; it is {target.StallTimeout}.");
        }

        if (target.ScratchSize <= 0)
        {
            failures.Add($"{S}:ScratchSize must be a positive number of bytes (the default is {TargetOptions.DefaultScratchSize}, 256 MiB); it is {target.ScratchSize}.");
        }

        if (!string.IsNullOrWhiteSpace(target.ScratchFolder) && !Directory.Exists(target.ScratchFolder))
        {
            failures.Add($"{S}:ScratchFolder '{target.ScratchFolder}' does not exist: name an existing folder for a compressed stream's scratch file, or leave it out to hold scratch in memory.");
        }
    }

    private static void CheckEndPoint(List<string> failures, string key, string? value)
    {
        if (!TryParseEndPoint(value, out _))
        {
            failures.Add($"{key} '{value}' is not ADDR:PORT (for example 0.0.0.0:6881 or [::1]:8580).");
        }
    }
}

using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BlockTorrent.Samples;

/// <summary>
/// Which HTTPS servers a target fetches a manifest from: by default those the machine's trusted certificate
/// authorities vouch for under the URL's host name; with pins, only a server presenting one of the pinned
/// certificates (<see cref="CertificateFile"/>: the server's own certificate, as a depot's self-signed one, or a CA
/// that issued it under the URL's host name) or a certificate with one of the pinned SHA-256 fingerprints. With pins,
/// the machine's certificate authorities are not consulted. Compiled into both samples (samples/Shared).
/// </summary>
internal sealed class ServerTrust
{
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1");
    private readonly X509Certificate2Collection _certificates;
    private readonly HashSet<string> _fingerprints;

    private ServerTrust(string? certificateFile, X509Certificate2Collection certificates, HashSet<string> fingerprints)
    {
        CertificateFile = certificateFile;
        _certificates = certificates;
        _fingerprints = fingerprints;
    }

    /// <summary>Gets the trust of a target given no pin: the machine's certificate authorities.</summary>
    public static ServerTrust System { get; } = new(null, [], new HashSet<string>(StringComparer.Ordinal));

    /// <summary>Gets the PEM file of pinned certificates; <see langword="null"/> when none is pinned by file.</summary>
    public string? CertificateFile { get; }

    /// <summary>Gets a value indicating whether anything is pinned (the machine's authorities are then not consulted).</summary>
    public bool IsPinned => _certificates.Count > 0 || _fingerprints.Count > 0;

    /// <summary>Reads the pins from the settings.</summary>
    /// <param name="certificateFile">A PEM file of <c>CERTIFICATE</c> blocks, or <see langword="null"/>.</param>
    /// <param name="fingerprints">SHA-256 fingerprints of the server's certificate (<c>SHA256:HEX</c>, or hexadecimal with or without colons), separated by commas or spaces; or <see langword="null"/>.</param>
    /// <returns>The trust; <see cref="System"/> when nothing is pinned.</returns>
    /// <exception cref="ArgumentException">The file holds no certificate or cannot be read, or a fingerprint is malformed; the message says which.</exception>
    public static ServerTrust Create(string? certificateFile, string? fingerprints)
    {
        var certificates = new X509Certificate2Collection();
        if (!string.IsNullOrWhiteSpace(certificateFile))
        {
            try
            {
                certificates.ImportFromPemFile(certificateFile);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or CryptographicException)
            {
                throw new ArgumentException($"cannot read the server certificate file '{certificateFile}': {e.Message}", nameof(certificateFile), e);
            }

            if (certificates.Count == 0)
            {
                throw new ArgumentException($"the server certificate file '{certificateFile}' holds no PEM CERTIFICATE block.", nameof(certificateFile));
            }
        }

        var pinned = new HashSet<string>(StringComparer.Ordinal);
        foreach (string text in (fingerprints ?? string.Empty).Split([',', ' ', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            pinned.Add(ParseFingerprint(text) ?? throw new ArgumentException($"'{text}' is not a SHA-256 certificate fingerprint (SHA256: and 64 hexadecimal digits, colons allowed).", nameof(fingerprints)));
        }

        return certificates.Count == 0 && pinned.Count == 0 ? System : new ServerTrust(string.IsNullOrWhiteSpace(certificateFile) ? null : certificateFile, certificates, pinned);
    }

    /// <summary>Returns the fingerprint of a certificate as the settings and the depot's log write it: <c>SHA256:</c> and the lower-case hexadecimal SHA-256 of its DER encoding.</summary>
    /// <param name="certificate">The certificate.</param>
    /// <returns>The fingerprint.</returns>
    public static string FingerprintOf(X509Certificate2 certificate) =>
        "SHA256:" + Convert.ToHexStringLower(SHA256.HashData(certificate.RawData));

    /// <summary>Parses a fingerprint (<c>SHA256:HEX</c>, bare hexadecimal, or colon-separated as openssl prints it) into <see cref="FingerprintOf"/>'s form; <see langword="null"/> when malformed.</summary>
    /// <param name="text">The fingerprint.</param>
    /// <returns>The fingerprint in canonical form, or <see langword="null"/>.</returns>
    public static string? ParseFingerprint(string text)
    {
        string hex = text.Trim();
        if (hex.StartsWith("SHA256:", StringComparison.OrdinalIgnoreCase))
        {
            hex = hex["SHA256:".Length..];
        }

        hex = hex.Replace(":", string.Empty, StringComparison.Ordinal);
        return hex.Length == 64 && hex.All(char.IsAsciiHexDigit) ? "SHA256:" + hex.ToLowerInvariant() : null;
    }

    /// <summary>Makes a handler whose https connections are checked against this trust (and nothing else), for a client that needs no refusal reason.</summary>
    /// <returns>The handler; the caller disposes it.</returns>
    public HttpClientHandler CreateHandler() =>
        new() { ServerCertificateCustomValidationCallback = (request, certificate, chain, errors) => Validate(certificate, chain, errors, out _) };

    /// <summary>Describes what is trusted, for messages.</summary>
    /// <returns>The description.</returns>
    public string Describe()
    {
        if (!IsPinned)
        {
            return "the certificate authorities this machine trusts";
        }

        var parts = new List<string>();
        if (CertificateFile is not null)
        {
            parts.Add($"the certificates in {CertificateFile} ({string.Join(", ", _certificates.Select(c => $"{c.Subject}, {FingerprintOf(c)}"))}) or a certificate they issued");
        }

        if (_fingerprints.Count > 0)
        {
            parts.Add("the pinned fingerprint " + string.Join(" or ", _fingerprints.Order(StringComparer.Ordinal)));
        }

        return string.Join(", or ", parts);
    }

    /// <summary>
    /// Decides whether the server's certificate is trusted, and if not, says why in a sentence naming the
    /// certificate presented and what was expected.
    /// </summary>
    /// <param name="certificate">The certificate the server presented.</param>
    /// <param name="chain">The chain the TLS layer built (its extra certificates are those the server sent).</param>
    /// <param name="errors">What the TLS layer found against the machine's authorities and the URL's host name.</param>
    /// <param name="reason">Why the certificate is refused; <see langword="null"/> when it is trusted.</param>
    /// <returns><see langword="true"/> when the certificate is trusted.</returns>
    public bool Validate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, out string? reason)
    {
        if (certificate is null)
        {
            reason = "the server presented no certificate.";
            return false;
        }

        using var leaf = new X509Certificate2(certificate);
        string presented = $"{leaf.Subject} ({FingerprintOf(leaf)}, issued by {leaf.Issuer})";
        if (!IsPinned)
        {
            reason = errors == SslPolicyErrors.None ? null : $"its certificate {presented} is not trusted by this machine: {Explain(errors, chain)}. Pin the server's certificate or its CA (a depot writes its own certificate into its state folder and logs its fingerprint).";
            return reason is null;
        }

        if (_fingerprints.Contains(FingerprintOf(leaf)) || _certificates.Any(c => c.RawData.AsSpan().SequenceEqual(leaf.RawData)))
        {
            // A certificate pinned as it is: its names and dates are not what makes it trusted.
            reason = null;
            return true;
        }

        if (_certificates.Count > 0)
        {
            string? chainProblem = BuildChain(leaf, chain);
            if (chainProblem is null && (errors & SslPolicyErrors.RemoteCertificateNameMismatch) == 0)
            {
                reason = null;
                return true;
            }

            reason = $"it presented {presented}, which is not trusted: " +
                (chainProblem is null ? "it was issued by a pinned CA but not for the host name of the URL." : $"it is not one of the pinned certificates and its chain does not lead to one ({chainProblem}).") +
                $" Trusted: {Describe()}.";
            return false;
        }

        reason = $"it presented {presented}, which does not match {Describe()}.";
        return false;
    }

    /// <summary>Builds the chain of <paramref name="leaf"/> to the pinned certificates alone; returns the problems, or <see langword="null"/> when it leads to one of them.</summary>
    private string? BuildChain(X509Certificate2 leaf, X509Chain? presented)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_certificates);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        if (presented is not null)
        {
            foreach (X509ChainElement element in presented.ChainElements)
            {
                chain.ChainPolicy.ExtraStore.Add(element.Certificate);
            }

            chain.ChainPolicy.ExtraStore.AddRange(presented.ChainPolicy.ExtraStore);
        }

        return chain.Build(leaf) ? null : string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Distinct(StringComparer.Ordinal));
    }

    private static string Explain(SslPolicyErrors errors, X509Chain? chain)
    {
        var parts = new List<string>();
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            parts.Add("it is not issued for the host name of the URL");
        }

        if ((errors & SslPolicyErrors.RemoteCertificateChainErrors) != 0)
        {
            string status = chain is null ? string.Empty : string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Distinct(StringComparer.Ordinal));
            parts.Add("its chain does not lead to a trusted authority" + (status.Length == 0 ? string.Empty : $" ({status})"));
        }

        if ((errors & SslPolicyErrors.RemoteCertificateNotAvailable) != 0)
        {
            parts.Add("no certificate was presented");
        }

        return string.Join(", and ", parts);
    }
}

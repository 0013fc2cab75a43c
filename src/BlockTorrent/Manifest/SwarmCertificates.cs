using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BlockTorrent.Manifest;

/// <summary>
/// Certificates of an authenticated swarm, as libtorrent's SSL torrents define it: the torrent's info dictionary
/// carries the certificate of the swarm's authority (<c>ssl-cert</c>, PEM), every peer presents a certificate that
/// authority signed, and a peer certificate names the torrent it is for (its name) or every torrent of the authority
/// (<c>*</c>), in a DNS subject alternative name or its common name.
/// </summary>
/// <remarks>
/// Keys are ECDSA P-256 from <see cref="System.Security.Cryptography"/>, certificates X.509 from
/// <see cref="CertificateRequest"/>; <c>openssl</c> makes equivalent ones (docs/SECURITY.md).
/// </remarks>
public static class SwarmCertificates
{
    /// <summary>The certificate name that admits a peer to every swarm of its authority.</summary>
    public const string AnyTorrent = "*";

    /// <summary>
    /// Makes a swarm authority: a self-signed certificate authority with an ECDSA P-256 key, able to sign peer
    /// certificates only (path length 0).
    /// </summary>
    /// <param name="name">Its common name, for people reading it.</param>
    /// <param name="validity">How long it is valid from now.</param>
    /// <returns>The certificate with its private key; the caller disposes it.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or <paramref name="validity"/> is not positive.</exception>
    public static X509Certificate2 CreateAuthority(string name, TimeSpan validity)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(validity, TimeSpan.Zero);
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + Escape(name)), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddHours(-1), now + validity);
    }

    /// <summary>
    /// Issues a peer certificate signed by <paramref name="authority"/>, with a new ECDSA P-256 key, usable to accept
    /// and to dial peers (server and client authentication).
    /// </summary>
    /// <param name="authority">The swarm authority, with its private key.</param>
    /// <param name="name">The torrent name the certificate is for, or <see cref="AnyTorrent"/> for every torrent of the authority.</param>
    /// <param name="validity">How long it is valid from now; it ends no later than the authority.</param>
    /// <returns>The certificate with its private key; the caller disposes it.</returns>
    /// <exception cref="ArgumentException">The authority has no private key, or an argument is out of range.</exception>
    public static X509Certificate2 Issue(X509Certificate2 authority, string name, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(authority);
        using ECDsa key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using X509Certificate2 issued = Issue(authority, new PublicKey(key), name, validity);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>
    /// Issues a peer certificate signed by <paramref name="authority"/> for a key its holder keeps (the public key of a
    /// certificate signing request, so the private key never leaves the peer), usable to accept and to dial peers
    /// (server and client authentication).
    /// </summary>
    /// <param name="authority">The swarm authority, with its private key.</param>
    /// <param name="subjectKey">The peer's public key (ECDSA P-256).</param>
    /// <param name="name">The torrent name the certificate is for, or <see cref="AnyTorrent"/> for every torrent of the authority.</param>
    /// <param name="validity">How long it is valid from now; it ends no later than the authority.</param>
    /// <returns>The certificate, without a private key; the caller disposes it.</returns>
    /// <exception cref="ArgumentException">The authority has no private key, the key is not ECDSA P-256, or an argument is out of range.</exception>
    public static X509Certificate2 Issue(X509Certificate2 authority, PublicKey subjectKey, string name, TimeSpan validity)
    {
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(subjectKey);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(validity, TimeSpan.Zero);
        if (!authority.HasPrivateKey)
        {
            throw new ArgumentException($"The authority '{authority.Subject}' has no private key to sign with.", nameof(authority));
        }

        using (ECDsa? subjectEcdsa = subjectKey.GetECDsaPublicKey())
        {
            if (subjectEcdsa is null || subjectEcdsa.KeySize != 256)
            {
                throw new ArgumentException("A peer's key must be an ECDSA P-256 key.", nameof(subjectKey));
            }
        }

        var request = new CertificateRequest(new X500DistinguishedName("CN=" + Escape(name)), subjectKey, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], critical: false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(name);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        DateTimeOffset now = DateTimeOffset.UtcNow;
        DateTimeOffset notAfter = now + validity;
        if (notAfter > authority.NotAfter)
        {
            notAfter = authority.NotAfter;
        }

        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        return request.Create(authority, now.AddHours(-1), notAfter, serial);
    }

    /// <summary>
    /// Decides whether a peer's certificate admits it to a swarm: it chains to <paramref name="authority"/> and to no
    /// other root, is valid now, and names <paramref name="torrentName"/> or <see cref="AnyTorrent"/> in a DNS subject
    /// alternative name or its (last) common name, which is what libtorrent checks.
    /// </summary>
    /// <param name="authority">The swarm's authority, from the manifest.</param>
    /// <param name="torrentName">The torrent's name.</param>
    /// <param name="certificate">The peer's certificate.</param>
    /// <param name="intermediates">Other certificates the peer sent, or <see langword="null"/>.</param>
    /// <param name="reason">Why the certificate is refused, or <see langword="null"/>.</param>
    /// <returns><see langword="true"/> when the certificate admits the peer.</returns>
    public static bool Admits(X509Certificate2 authority, string torrentName, X509Certificate2 certificate, X509Certificate2Collection? intermediates, out string? reason)
    {
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(torrentName);
        ArgumentNullException.ThrowIfNull(certificate);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        if (intermediates is not null)
        {
            chain.ChainPolicy.ExtraStore.AddRange(intermediates);
        }

        if (!chain.Build(certificate))
        {
            reason = $"its certificate '{certificate.Subject}' is not signed by the swarm's authority '{authority.Subject}' ({Describe(chain)})";
            return false;
        }

        if (!NamesTorrent(certificate, torrentName))
        {
            reason = $"its certificate '{certificate.Subject}' names neither '{torrentName}' nor '{AnyTorrent}'";
            return false;
        }

        reason = null;
        return true;
    }

    /// <summary>Reads the <c>ssl-cert</c> of an info dictionary.</summary>
    internal static X509Certificate2 ReadAuthority(string pem)
    {
        try
        {
            return X509Certificate2.CreateFromPem(pem);
        }
        catch (CryptographicException e)
        {
            throw TorrentInfo.Invalid($"info.ssl-cert is not a PEM certificate ({e.Message}).");
        }
    }

    private static bool NamesTorrent(X509Certificate2 certificate, string torrentName)
    {
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension alternativeNames)
            {
                foreach (string dnsName in alternativeNames.EnumerateDnsNames())
                {
                    if (Matches(dnsName, torrentName))
                    {
                        return true;
                    }
                }
            }
        }

        // libtorrent takes the most specific common name, the last one.
        string? commonName = null;
        foreach (X500RelativeDistinguishedName part in certificate.SubjectName.EnumerateRelativeDistinguishedNames())
        {
            if (!part.HasMultipleElements && part.GetSingleElementType().Value == "2.5.4.3")
            {
                commonName = part.GetSingleElementValue();
            }
        }

        return commonName is not null && Matches(commonName, torrentName);
    }

    private static bool Matches(string certificateName, string torrentName) =>
        string.Equals(certificateName, AnyTorrent, StringComparison.Ordinal) || string.Equals(certificateName, torrentName, StringComparison.Ordinal);

    private static string Describe(X509Chain chain)
    {
        foreach (X509ChainStatus status in chain.ChainStatus)
        {
            if (status.Status != X509ChainStatusFlags.NoError)
            {
                return status.StatusInformation.Trim();
            }
        }

        return "no chain";
    }

    // A name is one relative distinguished name: quote it so commas and the like stay part of it.
    private static string Escape(string name) => "\"" + name.Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}

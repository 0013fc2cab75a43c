using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BlockTorrent.Manifest;

/// <summary>
/// The keys and certificate authorities whose signatures make a manifest acceptable: ECDSA P-256 public keys, given
/// as PEM <c>PUBLIC KEY</c> blocks or as the keys of PEM <c>CERTIFICATE</c>s, and the certificates themselves as
/// trust anchors. A manifest is trusted when it carries a valid, unexpired <see cref="ManifestSignature"/> by one of
/// the keys, or by a key whose certificate, carried with the signature, chains to one of the certificates.
/// </summary>
/// <remarks>
/// A certificate's own key is trusted whatever its names and dates. A chain is built with
/// <see cref="X509Chain"/> to the trust file's certificates alone (no system roots, no revocation lookups), at the
/// time of the check: the signer's certificate and its intermediates must be valid then, and the first
/// certificate's key must be the signing key. Trust in a key is revoked by removing it from the set; trust in a
/// CA's signer by letting its certificate expire, or by replacing the CA.
/// </remarks>
public sealed class ManifestTrust
{
    private readonly HashSet<string> _fingerprints;
    private readonly X509Certificate2Collection _authorities;

    private ManifestTrust(HashSet<string> fingerprints, X509Certificate2Collection authorities)
    {
        _fingerprints = fingerprints;
        _authorities = authorities;
    }

    /// <summary>Gets the fingerprints of the trusted keys (see <see cref="ManifestSignature.Fingerprint"/>).</summary>
    public IReadOnlyCollection<string> Fingerprints => _fingerprints;

    /// <summary>Gets the subjects of the trusted certificates, to which a signer's carried certificate chain may lead.</summary>
    public IReadOnlyList<string> Authorities => [.. _authorities.Select(c => c.Subject)];

    /// <summary>Creates a trust set from public keys.</summary>
    /// <param name="subjectPublicKeyInfos">DER SubjectPublicKeyInfo of each trusted key.</param>
    /// <returns>The trust set.</returns>
    /// <exception cref="ArgumentException">None was given, or one is not an ECDSA P-256 public key.</exception>
    public static ManifestTrust FromPublicKeys(IEnumerable<ReadOnlyMemory<byte>> subjectPublicKeyInfos) =>
        new(Fingerprint(subjectPublicKeyInfos), []);

    private static HashSet<string> Fingerprint(IEnumerable<ReadOnlyMemory<byte>> subjectPublicKeyInfos)
    {
        ArgumentNullException.ThrowIfNull(subjectPublicKeyInfos);
        var fingerprints = new HashSet<string>(StringComparer.Ordinal);
        foreach (ReadOnlyMemory<byte> spki in subjectPublicKeyInfos)
        {
            using var key = ECDsa.Create();
            try
            {
                key.ImportSubjectPublicKeyInfo(spki.Span, out _);
            }
            catch (CryptographicException e)
            {
                throw new ArgumentException($"A trusted key is not an ECDSA public key: {e.Message}", nameof(subjectPublicKeyInfos), e);
            }

            ManifestSigning.CheckKey(key, nameof(subjectPublicKeyInfos));
            fingerprints.Add(ManifestSignature.FingerprintOf(key.ExportSubjectPublicKeyInfo()));
        }

        if (fingerprints.Count == 0)
        {
            throw new ArgumentException("No trusted key was given; a trust set that trusts nothing would refuse every manifest.", nameof(subjectPublicKeyInfos));
        }

        return fingerprints;
    }

    /// <summary>Creates a trust set from PEM text holding <c>PUBLIC KEY</c> and <c>CERTIFICATE</c> blocks.</summary>
    /// <param name="pem">The PEM text; other blocks (a private key, say) are refused.</param>
    /// <returns>The trust set.</returns>
    /// <exception cref="ArgumentException">The text holds no key, a block of another kind, or a key that is not ECDSA P-256.</exception>
    public static ManifestTrust FromPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var keys = new List<ReadOnlyMemory<byte>>();
        var authorities = new X509Certificate2Collection();
        ReadOnlySpan<char> rest = pem;
        while (PemEncoding.TryFind(rest, out PemFields fields))
        {
            ReadOnlySpan<char> label = rest[fields.Label];
            byte[] der = Convert.FromBase64String(rest[fields.Base64Data].ToString());
            if (label.SequenceEqual("PUBLIC KEY"))
            {
                keys.Add(der);
            }
            else if (label.SequenceEqual("CERTIFICATE"))
            {
                X509Certificate2 certificate = X509CertificateLoader.LoadCertificate(der);
                authorities.Add(certificate);

                // A CA's key may be on another curve or of another kind: it signs certificates, not manifests.
                using ECDsa? key = certificate.GetECDsaPublicKey();
                if (key is not null && IsP256(key))
                {
                    keys.Add(key.ExportSubjectPublicKeyInfo());
                }
                else if (!IsAuthority(certificate))
                {
                    throw new ArgumentException($"The certificate '{certificate.Subject}' holds no ECDSA P-256 key and is not a CA.", nameof(pem));
                }
            }
            else
            {
                throw new ArgumentException($"A trust file holds PUBLIC KEY or CERTIFICATE blocks, not '{label}'.", nameof(pem));
            }

            rest = rest[fields.Location.End..];
        }

        if (keys.Count == 0 && authorities.Count == 0)
        {
            return FromPublicKeys(keys);
        }

        return new ManifestTrust(keys.Count == 0 ? new HashSet<string>(StringComparer.Ordinal) : Fingerprint(keys), authorities);
    }

    /// <summary>Reads a trust set from a PEM file (see <see cref="FromPem"/>).</summary>
    /// <param name="path">The file path.</param>
    /// <returns>The trust set.</returns>
    /// <exception cref="ArgumentException">The file holds no key, or something other than public keys and certificates.</exception>
    public static ManifestTrust Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            return FromPem(File.ReadAllText(path));
        }
        catch (ArgumentException e)
        {
            string reason = e.ParamName is null ? e.Message : e.Message.Replace($" (Parameter '{e.ParamName}')", string.Empty, StringComparison.Ordinal);
            throw new ArgumentException($"'{path}': {reason}", nameof(path), e);
        }
    }

    /// <summary>Checks that a manifest carries a valid, unexpired signature by a trusted key or a signer a trusted CA certified, now.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <returns>The trusted signature.</returns>
    /// <exception cref="ManifestTrustException">The manifest is unsigned, its signatures do not verify, the trusted ones expired, or none is by a trusted key or CA.</exception>
    public ManifestSignature Verify(TorrentManifest manifest) => Verify(manifest, TimeProvider.System.GetUtcNow());

    /// <summary>Checks that a manifest carries a valid signature by a trusted key or a signer a trusted CA certified, unexpired at <paramref name="now"/>.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <param name="now">The time the signature's expiry and the certificates' validity are checked at.</param>
    /// <returns>The trusted signature.</returns>
    /// <exception cref="ManifestTrustException">The manifest is unsigned, its signatures do not verify, the trusted ones expired, or none is by a trusted key or CA.</exception>
    public ManifestSignature Verify(TorrentManifest manifest, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        IReadOnlyList<ManifestSignature> signatures = manifest.Signatures;
        if (signatures.Count == 0)
        {
            throw new ManifestTrustException($"The manifest of '{manifest.Name}' is not signed, and only manifests signed by a trusted key or CA ({Describe()}) are accepted.", ManifestTrustFailure.Unsigned);
        }

        if (!signatures.Any(s => s.IsValid))
        {
            throw new ManifestTrustException($"The signature on the manifest of '{manifest.Name}' (key {signatures[0].Fingerprint}) does not verify: the manifest or its signature was altered after signing.", ManifestTrustFailure.InvalidSignature);
        }

        string? expired = null;
        var problems = new List<string>();
        foreach (ManifestSignature signature in signatures.Where(s => s.IsValid))
        {
            string? problem = _fingerprints.Contains(signature.Fingerprint) ? null : CheckChain(signature, now);
            if (problem is null && signature.ExpiresAt is { } expires && expires <= now)
            {
                expired ??= $"The manifest of '{manifest.Name}' is signed by {signature.Fingerprint}, which is trusted, but the signature expired at {expires:u} (signed {signature.SignedAt?.ToString("u", System.Globalization.CultureInfo.InvariantCulture) ?? "at an unrecorded time"}): a newer manifest replaces it.";
            }
            else if (problem is null)
            {
                return signature;
            }
            else
            {
                problems.Add(problem);
            }
        }

        if (expired is not null)
        {
            throw new ManifestTrustException(expired, ManifestTrustFailure.Expired);
        }

        throw new ManifestTrustException($"The manifest of '{manifest.Name}' is signed by {string.Join("; ", problems)}, which is not trusted (trusted: {Describe()}).", ManifestTrustFailure.UntrustedSigner);
    }

    /// <summary>Checks a signature's carried chain against the trusted CAs; returns why it fails (naming the signer), or <see langword="null"/> when it leads to one.</summary>
    private string? CheckChain(ManifestSignature signature, DateTimeOffset now)
    {
        if (signature.Certificates.Count == 0 || _authorities.Count == 0)
        {
            return signature.Fingerprint;
        }

        using var certificates = new DisposableCollection(signature.Certificates);
        X509Certificate2? signer = certificates.Items.Count > 0 ? certificates.Items[0] : null;
        if (signer is null)
        {
            return $"{signature.Fingerprint} (its certificates cannot be read)";
        }

        string who = $"{signature.Fingerprint} ({signer.Subject}, issued by {signer.Issuer})";
        if (!signer.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(signature.PublicKey.Span))
        {
            return $"{who}, whose certificate is not the signing key's";
        }

        if (signer.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault() is { } usage && (usage.KeyUsages & X509KeyUsageFlags.DigitalSignature) == 0)
        {
            return $"{who}, whose certificate does not allow signing";
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        for (int i = 1; i < certificates.Items.Count; i++)
        {
            chain.ChainPolicy.ExtraStore.Add(certificates.Items[i]);
        }

        if (chain.Build(signer))
        {
            return null;
        }

        string status = string.Join("; ", chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal));
        return $"{who}, whose certificate chain does not lead to a trusted CA ({status})";
    }

    private static bool IsP256(ECDsa key)
    {
        try
        {
            ManifestSigning.CheckKey(key, nameof(key));
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static bool IsAuthority(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);

    private string Describe()
    {
        IEnumerable<string> keys = _fingerprints.Order(StringComparer.Ordinal);
        IEnumerable<string> authorities = _authorities.Where(IsAuthority).Select(c => "CA " + c.Subject);
        return string.Join(", ", keys.Concat(authorities));
    }

    /// <summary>The certificates a signature carries, loaded for one check; those that cannot be read are left out.</summary>
    private sealed class DisposableCollection : IDisposable
    {
        public DisposableCollection(IReadOnlyList<ReadOnlyMemory<byte>> certificates)
        {
            foreach (ReadOnlyMemory<byte> der in certificates)
            {
                try
                {
                    Items.Add(X509CertificateLoader.LoadCertificate(der.Span));
                }
                catch (CryptographicException)
                {
                    // A certificate that cannot be read cannot lead anywhere: the chain is built without it.
                    if (Items.Count == 0)
                    {
                        return;
                    }
                }
            }
        }

        public List<X509Certificate2> Items { get; } = [];

        public void Dispose()
        {
            foreach (X509Certificate2 certificate in Items)
            {
                certificate.Dispose();
            }
        }
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace BlockTorrent.Manifest;

/// <summary>
/// The keys whose signatures make a manifest acceptable: ECDSA P-256 public keys, given as PEM <c>PUBLIC KEY</c>
/// blocks or as the keys of PEM <c>CERTIFICATE</c>s. A manifest is trusted when it carries a valid
/// <see cref="ManifestSignature"/> by one of them.
/// </summary>
/// <remarks>
/// A certificate stands for its public key only: its subject, validity dates and issuer are not checked, and no
/// chain is built to a certificate authority. Trust is revoked by removing the key from the set.
/// </remarks>
public sealed class ManifestTrust
{
    private readonly HashSet<string> _fingerprints;

    private ManifestTrust(HashSet<string> fingerprints) => _fingerprints = fingerprints;

    /// <summary>Gets the fingerprints of the trusted keys (see <see cref="ManifestSignature.Fingerprint"/>).</summary>
    public IReadOnlyCollection<string> Fingerprints => _fingerprints;

    /// <summary>Creates a trust set from public keys.</summary>
    /// <param name="subjectPublicKeyInfos">DER SubjectPublicKeyInfo of each trusted key.</param>
    /// <returns>The trust set.</returns>
    /// <exception cref="ArgumentException">None was given, or one is not an ECDSA P-256 public key.</exception>
    public static ManifestTrust FromPublicKeys(IEnumerable<ReadOnlyMemory<byte>> subjectPublicKeyInfos)
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

        return new ManifestTrust(fingerprints);
    }

    /// <summary>Creates a trust set from PEM text holding <c>PUBLIC KEY</c> and <c>CERTIFICATE</c> blocks.</summary>
    /// <param name="pem">The PEM text; other blocks (a private key, say) are refused.</param>
    /// <returns>The trust set.</returns>
    /// <exception cref="ArgumentException">The text holds no key, a block of another kind, or a key that is not ECDSA P-256.</exception>
    public static ManifestTrust FromPem(string pem)
    {
        ArgumentNullException.ThrowIfNull(pem);
        var keys = new List<ReadOnlyMemory<byte>>();
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
                using X509Certificate2 certificate = X509CertificateLoader.LoadCertificate(der);
                using ECDsa key = certificate.GetECDsaPublicKey()
                    ?? throw new ArgumentException($"The certificate '{certificate.Subject}' does not hold an ECDSA key.", nameof(pem));
                keys.Add(key.ExportSubjectPublicKeyInfo());
            }
            else
            {
                throw new ArgumentException($"A trust file holds PUBLIC KEY or CERTIFICATE blocks, not '{label}'.", nameof(pem));
            }

            rest = rest[fields.Location.End..];
        }

        return FromPublicKeys(keys);
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

    /// <summary>
    /// Checks that a manifest carries a valid signature by a trusted key.
    /// </summary>
    /// <param name="manifest">The manifest.</param>
    /// <returns>The trusted signature.</returns>
    /// <exception cref="ManifestTrustException">The manifest is unsigned, its signatures do not verify, or none is by a trusted key.</exception>
    public ManifestSignature Verify(TorrentManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        IReadOnlyList<ManifestSignature> signatures = manifest.Signatures;
        if (signatures.Count == 0)
        {
            throw new ManifestTrustException($"The manifest of '{manifest.Name}' is not signed, and only manifests signed by a trusted key ({Describe()}) are accepted.", ManifestTrustFailure.Unsigned);
        }

        if (signatures.FirstOrDefault(s => s.IsValid && _fingerprints.Contains(s.Fingerprint)) is { } trusted)
        {
            return trusted;
        }

        if (!signatures.Any(s => s.IsValid))
        {
            throw new ManifestTrustException($"The signature on the manifest of '{manifest.Name}' (key {signatures[0].Fingerprint}) does not verify: the manifest or its signature was altered after signing.", ManifestTrustFailure.InvalidSignature);
        }

        string signers = string.Join(", ", signatures.Where(s => s.IsValid).Select(s => s.Fingerprint));
        throw new ManifestTrustException($"The manifest of '{manifest.Name}' is signed by {signers}, which is not trusted (trusted: {Describe()}).", ManifestTrustFailure.UntrustedSigner);
    }

    private string Describe() => string.Join(", ", _fingerprints.Order(StringComparer.Ordinal));
}

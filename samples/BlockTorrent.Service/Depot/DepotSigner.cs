using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;
using BlockTorrent.Service.Options;

namespace BlockTorrent.Service.Depot;

/// <summary>
/// The depot's signing key (<c>Depot:SigningKey</c>) with its certificate chain (<c>Depot:SigningCertificate</c>)
/// and the lifetime of its signatures (<c>Depot:SignatureLifetime</c>). A manifest is current when it carries a valid
/// signature by the key with that chain and more than half its lifetime left; any other is signed again.
/// </summary>
internal sealed class DepotSigner : IDisposable
{
    private readonly ECDsa _key;
    private readonly List<X509Certificate2> _chain;
    private readonly TimeSpan _lifetime;

    private DepotSigner(ECDsa key, List<X509Certificate2> chain, TimeSpan lifetime)
    {
        _key = key;
        _chain = chain;
        _lifetime = lifetime;
        Fingerprint = "SHA256:" + Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>Gets the fingerprint of the key (<c>SHA256:HEX</c> of its public key), as <c>blocktorrent info</c> shows it.</summary>
    public string Fingerprint { get; }

    /// <summary>Loads the key and its chain; <see langword="null"/> when the depot signs nothing.</summary>
    /// <param name="depot">The depot's settings.</param>
    /// <returns>The signer, or <see langword="null"/>.</returns>
    /// <exception cref="ArgumentException">The key is not an ECDSA P-256 private key, or the chain does not start with its certificate.</exception>
    /// <exception cref="IOException">A file cannot be read.</exception>
    /// <exception cref="CryptographicException">The key cannot be read.</exception>
    public static DepotSigner? Load(DepotOptions depot)
    {
        if (string.IsNullOrWhiteSpace(depot.SigningKey))
        {
            return null;
        }

        var key = ECDsa.Create();
        var chain = new List<X509Certificate2>();
        try
        {
            key.ImportFromPem(File.ReadAllText(depot.SigningKey));
            if (key.KeySize != 256 || key.ExportParameters(includePrivateParameters: true).D is null)
            {
                throw new ArgumentException($"'{depot.SigningKey}' must hold an ECDSA P-256 private key.");
            }

            if (!string.IsNullOrWhiteSpace(depot.SigningCertificate))
            {
                TrustFiles.LoadSigningCertificates(depot.SigningCertificate, key, chain);
            }

            return new DepotSigner(key, chain, depot.SignatureLifetime);
        }
        catch
        {
            key.Dispose();
            chain.ForEach(c => c.Dispose());
            throw;
        }
    }

    /// <summary>Whether <paramref name="manifest"/> carries a valid signature by the key, with the configured chain and more than half its lifetime left.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <param name="now">The time now.</param>
    /// <returns><see langword="true"/> when it need not be signed again.</returns>
    public bool IsCurrent(TorrentManifest manifest, DateTimeOffset now) =>
        manifest.Signatures.Any(s => s.IsValid && s.Fingerprint == Fingerprint && CarriesChain(s) && LastsLongEnough(s, now));

    /// <summary>Signs <paramref name="manifest"/> at <paramref name="now"/>, replacing its signatures.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <param name="now">The signing time.</param>
    /// <returns>The signed manifest (same info-hashes).</returns>
    public TorrentManifest Sign(TorrentManifest manifest, DateTimeOffset now)
    {
        var options = new ManifestSigningOptions { SignedAt = now, ExpiresAt = _lifetime > TimeSpan.Zero ? now + _lifetime : null };
        foreach (X509Certificate2 certificate in _chain)
        {
            options.Certificates.Add(certificate);
        }

        return manifest.WithSignature(_key, options);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _key.Dispose();
        _chain.ForEach(c => c.Dispose());
    }

    private bool CarriesChain(ManifestSignature signature) =>
        signature.Certificates.Count == _chain.Count && _chain.Select((c, i) => signature.Certificates[i].Span.SequenceEqual(c.RawData)).All(same => same);

    private bool LastsLongEnough(ManifestSignature signature, DateTimeOffset now) => _lifetime > TimeSpan.Zero
        ? signature.ExpiresAt is { } expires && expires - now > _lifetime / 2
        : signature.ExpiresAt is null || signature.ExpiresAt > now;
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Manifest;
using BlockTorrent.Samples;
using BlockTorrent.Service.Options;

namespace BlockTorrent.Service.Depot;

/// <summary>
/// The depot's signing key (<c>Depot:SigningKey</c>, or with <c>Depot:Sign</c> one the depot made and keeps in its
/// state folder as <see cref="KeyFileName"/>) with its certificate chain (<c>Depot:SigningCertificate</c>) and the
/// lifetime of its signatures (<c>Depot:SignatureLifetime</c>). A manifest is current when it carries a valid
/// signature by the key with that chain and more than half its lifetime left; any other is signed again.
/// </summary>
internal sealed class DepotSigner : IDisposable
{
    /// <summary>The file, in the state folder, of the signing key a depot made for itself (PKCS#8 PEM, mode 0600).</summary>
    public const string KeyFileName = "depot-signing.key.pem";

    /// <summary>The file, in the state folder, of that key's public half (what a target's <c>Target:Trust</c> may name).</summary>
    public const string PublicKeyFileName = "depot-signing.pub.pem";

    private readonly ECDsa _key;
    private readonly List<X509Certificate2> _chain;
    private readonly TimeSpan _lifetime;

    private DepotSigner(ECDsa key, List<X509Certificate2> chain, TimeSpan lifetime, string path, bool created)
    {
        _key = key;
        _chain = chain;
        _lifetime = lifetime;
        Path = path;
        Created = created;
        Fingerprint = "SHA256:" + Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
    }

    /// <summary>Gets the fingerprint of the key (<c>SHA256:HEX</c> of its public key), as <c>blocktorrent info</c> shows it.</summary>
    public string Fingerprint { get; }

    /// <summary>Gets the file the key was read from.</summary>
    public string Path { get; }

    /// <summary>Gets a value indicating whether the depot made the key in this run.</summary>
    public bool Created { get; }

    /// <summary>
    /// Gets what a target trusts for the depot's manifests, as PEM: the key's public half and, when the key is
    /// certified, its certificate chain (so a target also accepts a key the same CA certifies later).
    /// </summary>
    public string TrustAnchorsPem =>
        _key.ExportSubjectPublicKeyInfoPem() + "\n" + string.Concat(_chain.Select(c => c.ExportCertificatePem() + "\n"));

    /// <summary>
    /// Loads the key and its chain: <c>Depot:SigningKey</c>, else with <c>Depot:Sign</c> the depot's own key from
    /// <paramref name="stateDirectory"/>, made the first time; <see langword="null"/> when the depot signs nothing.
    /// </summary>
    /// <param name="depot">The depot's settings.</param>
    /// <param name="stateDirectory">Where the depot keeps the key it made; <see langword="null"/> to load only a configured key.</param>
    /// <returns>The signer, or <see langword="null"/>.</returns>
    /// <exception cref="ArgumentException">The key is not an ECDSA P-256 private key, or the chain does not start with its certificate.</exception>
    /// <exception cref="IOException">A file cannot be read or written.</exception>
    /// <exception cref="CryptographicException">The key cannot be read.</exception>
    public static DepotSigner? Load(DepotOptions depot, string? stateDirectory = null)
    {
        string? path = depot.SigningKey;
        bool created = false;
        if (string.IsNullOrWhiteSpace(path))
        {
            if (!depot.Sign || stateDirectory is null)
            {
                return null;
            }

            path = System.IO.Path.Combine(stateDirectory, KeyFileName);
            created = !File.Exists(path);
            if (created)
            {
                Create(path, System.IO.Path.Combine(stateDirectory, PublicKeyFileName));
            }
        }

        var key = ECDsa.Create();
        var chain = new List<X509Certificate2>();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
            if (key.KeySize != 256 || key.ExportParameters(includePrivateParameters: true).D is null)
            {
                throw new ArgumentException($"'{path}' must hold an ECDSA P-256 private key.");
            }

            if (!string.IsNullOrWhiteSpace(depot.SigningCertificate))
            {
                TrustFiles.LoadSigningCertificates(depot.SigningCertificate, key, chain);
            }

            return new DepotSigner(key, chain, depot.SignatureLifetime, path, created);
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

    private static void Create(string keyPath, string publicKeyPath)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(keyPath)!);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        // The public half first: a key file always has it beside it.
        File.Delete(publicKeyPath);
        Http.DepotCertificate.WriteNew(publicKeyPath, key.ExportSubjectPublicKeyInfoPem() + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Http.DepotCertificate.WriteNew(keyPath, key.ExportPkcs8PrivateKeyPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private bool CarriesChain(ManifestSignature signature) =>
        signature.Certificates.Count == _chain.Count && _chain.Select((c, i) => signature.Certificates[i].Span.SequenceEqual(c.RawData)).All(same => same);

    private bool LastsLongEnough(ManifestSignature signature, DateTimeOffset now) => _lifetime > TimeSpan.Zero
        ? signature.ExpiresAt is { } expires && expires - now > _lifetime / 2
        : signature.ExpiresAt is null || signature.ExpiresAt > now;
}

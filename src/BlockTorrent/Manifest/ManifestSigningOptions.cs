using System.Security.Cryptography.X509Certificates;

namespace BlockTorrent.Manifest;

/// <summary>
/// What a manifest signature carries besides the signature (<see cref="TorrentManifest.WithSignature(System.Security.Cryptography.ECDsa, ManifestSigningOptions)"/>):
/// the signer's certificate chain, so a target trusting a CA rather than the key accepts it, and the signing time
/// and expiry, which are signed, so an old manifest cannot be passed off as current forever.
/// </summary>
public sealed class ManifestSigningOptions
{
    /// <summary>
    /// Gets the signer's certificate, whose public key must be the signing key, followed by the certificates that
    /// lead from it towards the CA (intermediates; the CA itself may be left out: the target holds it). They travel
    /// beside the signature, outside what is signed: a certificate authenticates itself by its issuer's signature.
    /// </summary>
    /// <value>The default is empty: only targets trusting the key itself accept the signature.</value>
    public IList<X509Certificate2> Certificates { get; } = [];

    /// <summary>Gets or sets the signing time recorded in the signature.</summary>
    /// <value>The default is <see langword="null"/>: the time of signing.</value>
    public DateTimeOffset? SignedAt { get; set; }

    /// <summary>
    /// Gets or sets when the signature expires: from then on a target refuses it
    /// (<see cref="ManifestTrustFailure.Expired"/>), so a manifest that is replaced is not accepted for ever.
    /// </summary>
    /// <value>The default is <see langword="null"/>: the signature does not expire.</value>
    public DateTimeOffset? ExpiresAt { get; set; }
}

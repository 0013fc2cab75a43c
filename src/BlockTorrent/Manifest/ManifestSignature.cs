using System.Security.Cryptography;

namespace BlockTorrent.Manifest;

/// <summary>
/// A signature found in a .torrent, outside its info dictionary: an ECDSA P-256 (SHA-256) signature by a key over
/// the torrent's info-hashes, checked against this torrent when it was read.
/// </summary>
/// <remarks>
/// The signature lives in the top-level <c>signatures</c> dictionary, in the spirit of BEP 35: every BitTorrent
/// client ignores it, and the info-hashes (so the swarm) are the same signed or not. Whether the key is one to
/// trust is another question, answered by <see cref="ManifestTrust"/>.
/// </remarks>
public sealed class ManifestSignature
{
    private readonly byte[] _publicKey;

    internal ManifestSignature(byte[] publicKey, bool isValid, DateTimeOffset? signedAt, DateTimeOffset? expiresAt, IReadOnlyList<ReadOnlyMemory<byte>> certificates)
    {
        _publicKey = publicKey;
        IsValid = isValid;
        Fingerprint = FingerprintOf(publicKey);
        SignedAt = signedAt;
        ExpiresAt = expiresAt;
        Certificates = certificates;
    }

    /// <summary>Gets the signer's public key: a DER SubjectPublicKeyInfo (what a PEM <c>PUBLIC KEY</c> holds).</summary>
    public ReadOnlyMemory<byte> PublicKey => _publicKey;

    /// <summary>Gets the key's fingerprint: <c>SHA256:</c> and the hexadecimal SHA-256 of <see cref="PublicKey"/>.</summary>
    public string Fingerprint { get; }

    /// <summary>
    /// Gets a value indicating whether the signature verifies with <see cref="PublicKey"/> over this torrent's
    /// info-hashes (all of them: a hybrid torrent's v1 and v2). <see langword="false"/> means the torrent or the
    /// signature was altered since it was signed.
    /// </summary>
    public bool IsValid { get; }

    /// <summary>Gets the signing time the signature records (signed with it); <see langword="null"/> for a signature that records none.</summary>
    public DateTimeOffset? SignedAt { get; }

    /// <summary>Gets when the signature expires (signed with it): from then on <see cref="ManifestTrust"/> refuses it; <see langword="null"/> when it does not expire.</summary>
    public DateTimeOffset? ExpiresAt { get; }

    /// <summary>
    /// Gets the certificates carried beside the signature (DER): the signer's certificate first, then intermediates
    /// towards a CA. They are not what is signed; <see cref="ManifestTrust"/> builds their chain to the CAs it trusts
    /// and checks that the first one's key is <see cref="PublicKey"/>.
    /// </summary>
    public IReadOnlyList<ReadOnlyMemory<byte>> Certificates { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Fingerprint}{(IsValid ? string.Empty : " (INVALID)")}";

    /// <summary>Returns the fingerprint of a DER SubjectPublicKeyInfo.</summary>
    internal static string FingerprintOf(ReadOnlySpan<byte> subjectPublicKeyInfo)
        => "SHA256:" + Convert.ToHexStringLower(SHA256.HashData(subjectPublicKeyInfo));
}

namespace BlockTorrent.Manifest;

/// <summary>Why a manifest was refused before anything was written.</summary>
public enum ManifestTrustFailure
{
    /// <summary>Trusted signers are configured and the manifest carries no signature.</summary>
    Unsigned = 1,

    /// <summary>The manifest carries a signature that does not verify: it or the signature was altered.</summary>
    InvalidSignature = 2,

    /// <summary>The manifest is validly signed, but by a key that is not trusted.</summary>
    UntrustedSigner = 3,

    /// <summary>The manifest's info-hashes are not the one pinned (<see cref="DeployOptions.ExpectedInfoHash"/>).</summary>
    InfoHashMismatch = 4,

    /// <summary>The manifest is signed by a trusted key or CA, but the signature expired (<see cref="ManifestSignature.ExpiresAt"/>).</summary>
    Expired = 5,
}

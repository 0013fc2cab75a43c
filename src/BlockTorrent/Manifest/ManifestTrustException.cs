namespace BlockTorrent.Manifest;

/// <summary>
/// A manifest was refused before anything was written to the device: it is unsigned or signed by a key that is
/// not trusted (<see cref="DeployOptions.Trust"/>), its signature does not verify, or its info-hash is not the one
/// pinned (<see cref="DeployOptions.ExpectedInfoHash"/>). <see cref="Reason"/> says which; the message names the
/// image, the signer and the keys trusted.
/// </summary>
public sealed class ManifestTrustException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    public ManifestTrustException()
    {
    }

    /// <summary>Initializes a new instance with a message.</summary>
    /// <param name="message">What is wrong.</param>
    public ManifestTrustException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance with a message and the error that caused it.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ManifestTrustException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance with a message and the reason.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="reason">Why the manifest was refused.</param>
    public ManifestTrustException(string message, ManifestTrustFailure reason)
        : base(message)
    {
        Reason = reason;
    }

    /// <summary>Gets why the manifest was refused.</summary>
    public ManifestTrustFailure Reason { get; }
}

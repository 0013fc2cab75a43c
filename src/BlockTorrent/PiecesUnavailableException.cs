namespace BlockTorrent;

/// <summary>
/// A deployment stopped because no peer it can use has the pieces still missing: for
/// <see cref="DeployOptions.StallTimeout"/> nothing arrived while the connected peers lacked them, or the peers that
/// had them were banned (typically a seed whose image changed after its manifest was made). The message names the
/// pieces, the peers and why each was banned; the pieces already written stay verified, and the resume file keeps them.
/// </summary>
public sealed class PiecesUnavailableException : Exception
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="message">What is missing and why, for a person.</param>
    /// <param name="missingPieces">The pieces no usable peer has.</param>
    /// <param name="bannedPeers">Each banned peer and why, as a sentence.</param>
    public PiecesUnavailableException(string message, IReadOnlyList<int> missingPieces, IReadOnlyList<string> bannedPeers)
        : base(message)
    {
        MissingPieces = missingPieces ?? [];
        BannedPeers = bannedPeers ?? [];
    }

    /// <summary>Initializes a new instance with a message only.</summary>
    /// <param name="message">What is missing and why.</param>
    public PiecesUnavailableException(string message)
        : this(message, [], [])
    {
    }

    /// <summary>Initializes a new instance with the default message.</summary>
    public PiecesUnavailableException()
        : this("No peer has the pieces the deployment still needs.")
    {
    }

    /// <summary>Initializes a new instance that wraps another exception.</summary>
    /// <param name="message">What is missing and why.</param>
    /// <param name="innerException">The cause.</param>
    public PiecesUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
        MissingPieces = [];
        BannedPeers = [];
    }

    /// <summary>Gets the pieces no usable peer has, in ascending order.</summary>
    public IReadOnlyList<int> MissingPieces { get; }

    /// <summary>Gets each peer the deployment banned, with why (for example pieces that failed their hash check).</summary>
    public IReadOnlyList<string> BannedPeers { get; }
}

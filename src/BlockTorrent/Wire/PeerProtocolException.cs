namespace BlockTorrent.Wire;

/// <summary>A peer broke the protocol while a connection was being set up (a bad or unexpected handshake).</summary>
internal sealed class PeerProtocolException : IOException
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="error">How the peer broke the protocol.</param>
    /// <param name="message">What happened, naming the peer.</param>
    public PeerProtocolException(WireError error, string message)
        : base(message)
    {
        Error = error;
    }

    /// <summary>Gets how the peer broke the protocol.</summary>
    public WireError Error { get; }
}

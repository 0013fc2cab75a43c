using System.Net;

namespace BlockTorrent.Discovery;

/// <summary>Peers the user named (options, magnet <c>x.pe</c>): reported once, at start.</summary>
/// <param name="peers">The addresses.</param>
internal sealed class ExplicitPeerSource(IReadOnlyList<IPEndPoint> peers) : IPeerSource
{
    /// <inheritdoc />
    public string Name => "explicit peers";

    /// <inheritdoc />
    public void Start(Action<IReadOnlyList<IPEndPoint>, IPAddress?> onPeers)
    {
        ArgumentNullException.ThrowIfNull(onPeers);
        if (peers.Count > 0)
        {
            onPeers(peers, null);
        }
    }

    /// <inheritdoc />
    public void NotifyCompleted()
    {
        // Nobody to tell.
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

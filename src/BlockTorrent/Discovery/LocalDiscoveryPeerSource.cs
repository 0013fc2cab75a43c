using System.Net;
using BlockTorrent.Manifest;

namespace BlockTorrent.Discovery;

/// <summary>
/// One torrent's use of the process-wide <see cref="LocalPeerDiscovery"/>: announces it and reports the peers that
/// announce it. Never created for a private torrent (<see cref="DiscoveryPolicy.AllowsLocalDiscovery"/>).
/// </summary>
/// <param name="discovery">The shared LSD instance (started by its owner).</param>
/// <param name="infoHash">The torrent.</param>
/// <param name="port">Our TCP port.</param>
internal sealed class LocalDiscoveryPeerSource(LocalPeerDiscovery discovery, InfoHash infoHash, int port) : IPeerSource
{
    private IDisposable? _registration;

    /// <inheritdoc />
    public string Name => "local service discovery";

    /// <inheritdoc />
    public void Start(Action<IReadOnlyList<IPEndPoint>, IPAddress?> onPeers)
    {
        ArgumentNullException.ThrowIfNull(onPeers);

        // An LSD announce names only its sender.
        _registration = discovery.Register(infoHash, port, peer => onPeers([peer], peer.Address));
    }

    /// <inheritdoc />
    public void NotifyCompleted()
    {
        // LSD announces presence only; completion changes nothing.
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _registration?.Dispose();
        return ValueTask.CompletedTask;
    }
}

using System.Net;

namespace BlockTorrent.Discovery;

/// <summary>
/// One way of finding peers for one torrent: a tracker, Local Service Discovery, or addresses the user gave.
/// The swarm starts every source it is allowed (see <see cref="DiscoveryPolicy"/>) and disposes them when it leaves.
/// </summary>
internal interface IPeerSource : IAsyncDisposable
{
    /// <summary>Gets a name for logs, e.g. the tracker's address.</summary>
    string Name { get; }

    /// <summary>Starts finding peers in the background; returns at once.</summary>
    /// <param name="onPeers">
    /// Called, on a pool thread, with each batch of peers found and the address of the host that named them (a
    /// tracker's, an LSD announcer's), or null for peers the user named. It must not throw or block.
    /// </param>
    void Start(Action<IReadOnlyList<IPEndPoint>, IPAddress?> onPeers);

    /// <summary>Tells the source the download just completed (trackers announce <c>completed</c>).</summary>
    void NotifyCompleted();
}

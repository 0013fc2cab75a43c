using Microsoft.Extensions.Logging;

namespace BlockTorrent.Swarm;

/// <summary>What a <see cref="TorrentSwarm"/> needs from the client that runs it.</summary>
internal interface ISwarmHost
{
    /// <summary>Gets our 20-byte peer id.</summary>
    ReadOnlyMemory<byte> PeerId { get; }

    /// <summary>Gets the port we accept connections on.</summary>
    int ListenPort { get; }

    /// <summary>Gets the settings the swarm runs with.</summary>
    SwarmSettings Settings { get; }

    /// <summary>Gets the clock.</summary>
    TimeProvider Time { get; }

    /// <summary>Gets the logger for swarm messages.</summary>
    ILogger Logger { get; }

    /// <summary>Publishes an event to the client's event stream.</summary>
    /// <param name="swarmEvent">The event.</param>
    void Publish(SwarmEvent swarmEvent);

    /// <summary>Gets a value indicating whether anyone watches the events (so one that would be dropped need not be made).</summary>
    bool HasEventWatchers { get; }
}

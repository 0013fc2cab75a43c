using System.Net;
using BlockTorrent.Swarm;
using BlockTorrent.Swarm.Extensions;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Swarm;

/// <summary>A peer as extensions see it: records what they send it and what they queue for it.</summary>
internal sealed class FakeExtensionPeer : IExtensionPeer
{
    public IPEndPoint Remote { get; init; } = new(IPAddress.Loopback, 1000);

    public bool IsOutgoing => true;

    public IPEndPoint? ReachableAt => Remote;

    public bool IsSeed => false;

    public ExtensionHandshake? RemoteExtensions { get; init; }

    public List<Outgoing> Queued { get; } = [];

    public List<byte[]> Extended { get; } = [];

    public List<byte> ExtendedIds { get; } = [];

    public void SendExtended(byte remoteId, byte[] payload)
    {
        ExtendedIds.Add(remoteId);
        Extended.Add(payload);
    }

    public bool TryQueueReply(PeerExtension owner, Outgoing reply, int limit)
    {
        if (Queued.Count >= limit)
        {
            return false;
        }

        Queued.Add(reply with { Extension = owner });
        return true;
    }
}

using System.Net;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm.Extensions;

/// <summary>What an extension sees of one peer connection, and how it sends to it.</summary>
internal interface IExtensionPeer
{
    /// <summary>Gets the peer's address.</summary>
    IPEndPoint Remote { get; }

    /// <summary>Gets a value indicating whether we dialled the peer.</summary>
    bool IsOutgoing { get; }

    /// <summary>Gets where the peer accepts connections: the address we dialled, or the port it announced; null when unknown.</summary>
    IPEndPoint? ReachableAt { get; }

    /// <summary>Gets a value indicating whether the peer has every piece.</summary>
    bool IsSeed { get; }

    /// <summary>Gets the peer's extended handshake in force, or null before it sent one.</summary>
    ExtensionHandshake? RemoteExtensions { get; }

    /// <summary>Queues an extended message.</summary>
    /// <param name="remoteId">The id the peer gave the extension.</param>
    /// <param name="payload">The message's payload.</param>
    void SendExtended(byte remoteId, byte[] payload);

    /// <summary>
    /// Queues an answer to something the peer asked, unless <paramref name="limit"/> answers of the same kind wait
    /// unsent already: a peer that asks faster than it reads is dropped instead of growing the send queue.
    /// </summary>
    /// <param name="owner">The extension whose replies are counted (and which writes a reply that is not an extended message).</param>
    /// <param name="reply">The reply.</param>
    /// <param name="limit">The most replies of <paramref name="owner"/> that may wait.</param>
    /// <returns><see langword="false"/> when the reply was not queued and the peer should be dropped.</returns>
    bool TryQueueReply(PeerExtension owner, Outgoing reply, int limit);
}

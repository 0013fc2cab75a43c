using System.Buffers;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm.Extensions;

/// <summary>
/// A protocol extension of one swarm, registered by name in its <see cref="ExtensionRegistry"/>: it may claim a
/// BEP 10 message name (advertised in our extended handshake, so peers send its messages under the id the registry
/// gave it) and core messages the base protocol leaves to extensions (BEP 52's hash requests), and it sees every
/// peer's extended handshake, the swarm's tick and every peer leaving.
/// </summary>
/// <remarks>
/// Every member has a default that does nothing, so an extension overrides only what it handles and members can be
/// added later without touching the others. <see cref="OnMessage"/> and <see cref="OnHandshake"/> run on the peer's
/// receive loop, outside the swarm's lock; <see cref="Tick"/> and <see cref="OnPeerClosed"/> run under it.
/// </remarks>
internal abstract class PeerExtension
{
    /// <summary>Initializes a new instance of the <see cref="PeerExtension"/> class.</summary>
    /// <param name="name">The extension's name: its BEP 10 message name when <paramref name="advertised"/>.</param>
    /// <param name="advertised">Whether the name goes into the <c>m</c> dictionary of our extended handshake.</param>
    protected PeerExtension(string name, bool advertised)
    {
        Name = name;
        IsAdvertised = advertised;
    }

    /// <summary>Gets the extension's name (for a BEP 10 extension, the key of its <c>m</c> entry, e.g. <c>ut_pex</c>).</summary>
    public string Name { get; }

    /// <summary>Gets a value indicating whether the name is advertised in our extended handshake.</summary>
    public bool IsAdvertised { get; }

    /// <summary>Gets the id peers send this extension's messages to us under, or 0 when it is not advertised.</summary>
    public byte LocalId { get; internal set; }

    /// <summary>Gets the extension's position in its registry (sessions count its queued replies by it).</summary>
    public int Index { get; internal set; }

    /// <summary>Gets the core messages (other than <see cref="MessageId.Extended"/>) this extension handles.</summary>
    public virtual ReadOnlySpan<MessageId> CoreMessages => [];

    /// <summary>Sees a peer's extended handshake (its first, or a later one that changed something).</summary>
    /// <param name="peer">The peer.</param>
    /// <param name="handshake">The handshake in force.</param>
    public virtual void OnHandshake(IExtensionPeer peer, ExtensionHandshake handshake)
    {
    }

    /// <summary>
    /// Handles a message: an extended message sent under <see cref="LocalId"/> (its payload after the extension id),
    /// or one of <see cref="CoreMessages"/>. The message is valid only during the call.
    /// </summary>
    /// <param name="peer">The peer that sent it.</param>
    /// <param name="message">The message.</param>
    /// <returns>A reason to close the connection, or <see langword="null"/>.</returns>
    public virtual string? OnMessage(IExtensionPeer peer, PeerMessage message) => null;

    /// <summary>Writes a reply the extension queued with <see cref="IExtensionPeer.TryQueueReply"/>, when the send loop reaches it.</summary>
    /// <param name="output">The connection's output.</param>
    /// <param name="reply">The queued reply.</param>
    /// <returns>The bytes written.</returns>
    public virtual int WriteReply(IBufferWriter<byte> output, in Outgoing reply) => throw new NotSupportedException($"{Name} queues no replies.");

    /// <summary>
    /// Writes a queued reply that may need to wait (for a piece's bytes, say) when the send loop reaches it; by
    /// default <see cref="WriteReply"/>.
    /// </summary>
    /// <param name="output">The connection's output.</param>
    /// <param name="reply">The queued reply.</param>
    /// <param name="cancellationToken">Stops the wait when the connection closes.</param>
    /// <returns>The bytes written.</returns>
    public virtual ValueTask<int> WriteReplyAsync(IBufferWriter<byte> output, Outgoing reply, CancellationToken cancellationToken) => ValueTask.FromResult(WriteReply(output, reply));

    /// <summary>Runs the extension's periodic work, once a second, under the swarm's lock.</summary>
    /// <param name="now">The current timestamp.</param>
    /// <param name="peers">The connected peers.</param>
    public virtual void Tick(long now, IReadOnlyList<IExtensionPeer> peers)
    {
    }

    /// <summary>Forgets a peer that left, under the swarm's lock.</summary>
    /// <param name="peer">The peer.</param>
    public virtual void OnPeerClosed(IExtensionPeer peer)
    {
    }
}

using System.Buffers;
using BlockTorrent.Wire;

namespace BlockTorrent.Swarm.Extensions;

/// <summary>
/// BlockTorrent's <c>bt_blocks</c> both ways (<see cref="BlockHaveMessage"/>): tells peers that speak it the verified
/// blocks of pieces we are still receiving, and passes what a peer tells us to the swarm. docs/BLOCK-RELAY.md.
/// </summary>
/// <remarks>
/// An announcement is checked against the torrent's pieces before anything is kept: a piece index outside the
/// torrent, a piece not relayed by blocks, or a bitmap of the wrong length or with spare bits set closes the
/// connection, as any invalid extension message does.
/// </remarks>
internal sealed class BlockRelayExchange : PeerExtension
{
    /// <summary>The id we ask peers to send it under: fixed, so it does not move with the extensions registered before it.</summary>
    public const byte WantedId = 9;

    private readonly Func<int, int> _blockCountOf;
    private readonly Action<IExtensionPeer, BlockHaveMessage> _onBlocks;

    /// <summary>Initializes a new instance of the <see cref="BlockRelayExchange"/> class.</summary>
    /// <param name="blockCountOf">The number of blocks of a piece index, or 0 when it is no piece relayed by blocks.</param>
    /// <param name="onBlocks">Takes what a peer told us (called on its receive loop, outside the swarm's lock).</param>
    public BlockRelayExchange(Func<int, int> blockCountOf, Action<IExtensionPeer, BlockHaveMessage> onBlocks)
        : base(BlockHaveMessage.Name, advertised: true)
    {
        _blockCountOf = blockCountOf;
        _onBlocks = onBlocks;
    }

    /// <inheritdoc/>
    public override string? OnMessage(IExtensionPeer peer, PeerMessage message)
    {
        if (BlockHaveMessage.TryParse(message.Payload.ToArray(), _blockCountOf) is not { } blocks)
        {
            return "an invalid bt_blocks message";
        }

        _onBlocks(peer, blocks);
        return null;
    }

    /// <summary>Tells a peer that speaks it which blocks of a piece we hold verified; does nothing for another peer.</summary>
    /// <param name="peer">The peer.</param>
    /// <param name="blocks">The piece's verified blocks.</param>
    /// <returns><see langword="true"/> when it was sent.</returns>
    public static bool Send(IExtensionPeer peer, BlockHaveMessage blocks)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ArgumentNullException.ThrowIfNull(blocks);
        byte id = peer.RemoteExtensions?.Blocks ?? 0;
        if (id == 0)
        {
            return false;
        }

        var payload = new ArrayBufferWriter<byte>(16 + blocks.Bitmap.Length);
        blocks.WriteTo(payload);
        peer.SendExtended(id, payload.WrittenSpan.ToArray());
        return true;
    }
}

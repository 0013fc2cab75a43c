namespace BlockTorrent.Wire;

/// <summary>
/// Where the blocks of incoming piece messages go. The connection asks for a destination before it copies a block
/// out of its receive buffer, so a block travels from the socket buffer to the piece buffer in exactly one copy.
/// </summary>
/// <remarks>
/// Both methods are called on the connection's receive loop, one message at a time; they must not block. A block
/// for which <see cref="TryGetDestination"/> returns <see langword="false"/> (not requested, cancelled, already
/// received from another peer) is dropped and counted in <see cref="PeerConnection.UnsolicitedBlocks"/>.
/// </remarks>
internal interface IBlockSink
{
    /// <summary>Finds the memory a received block belongs in.</summary>
    /// <param name="connection">The connection the block arrived on.</param>
    /// <param name="piece">The piece index (checked against the piece count, when known).</param>
    /// <param name="offset">The block's offset in the piece (not negative; not checked against the piece size).</param>
    /// <param name="length">The block's length: 1 to 16 KiB.</param>
    /// <param name="destination">
    /// The memory to copy the block into: at least <paramref name="length"/> bytes, of which the first
    /// <paramref name="length"/> are written. It stays the sink's; the connection does not keep it.
    /// </param>
    /// <returns><see langword="true"/> when the block is wanted; <see langword="false"/> to drop it.</returns>
    bool TryGetDestination(PeerConnection connection, int piece, int offset, int length, out Memory<byte> destination);

    /// <summary>Reports that a block was copied into the destination <see cref="TryGetDestination"/> gave for it.</summary>
    /// <param name="connection">The connection the block arrived on.</param>
    /// <param name="piece">The piece index.</param>
    /// <param name="offset">The block's offset in the piece.</param>
    /// <param name="length">The block's length.</param>
    void OnBlockReceived(PeerConnection connection, int piece, int offset, int length);
}

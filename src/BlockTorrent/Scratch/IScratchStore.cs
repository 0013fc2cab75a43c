namespace BlockTorrent.Scratch;

/// <summary>
/// Bounded temporary storage for pieces that cannot go to their final place yet: a stream-format image (compressed,
/// or otherwise written strictly in order) holds out-of-order pieces here until the gap before them is filled.
/// Raw images never need it: their pieces go straight to the device.
/// </summary>
/// <remarks>
/// The store never grows beyond <see cref="Capacity"/>. <see cref="TryStoreAsync"/> returns <see langword="false"/>
/// when a piece does not fit, and the caller must wait (or stop requesting pieces far ahead) until
/// <see cref="RemoveAsync"/> frees room. Keys are piece indices; a piece is stored at most once.
/// </remarks>
public interface IScratchStore : IAsyncDisposable
{
    /// <summary>Gets the most bytes the store holds at once.</summary>
    long Capacity { get; }

    /// <summary>Gets the bytes held now.</summary>
    long BytesUsed { get; }

    /// <summary>Gets the number of pieces held now.</summary>
    int Count { get; }

    /// <summary>Stores a copy of a piece's bytes when there is room for them.</summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="data">The verified piece bytes.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when stored; <see langword="false"/> when there is not room for it.</returns>
    /// <exception cref="InvalidOperationException">The piece is already stored.</exception>
    ValueTask<bool> TryStoreAsync(int piece, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>Gets a value indicating whether a piece is held.</summary>
    /// <param name="piece">The piece index.</param>
    /// <returns><see langword="true"/> when the piece is held.</returns>
    bool Contains(int piece);

    /// <summary>Copies a held piece into <paramref name="destination"/>.</summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="destination">Receives the bytes; must be at least as long as the stored piece.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The number of bytes copied.</returns>
    /// <exception cref="KeyNotFoundException">The piece is not held.</exception>
    ValueTask<int> ReadAsync(int piece, Memory<byte> destination, CancellationToken cancellationToken = default);

    /// <summary>Releases a held piece and its room.</summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns><see langword="true"/> when the piece was held.</returns>
    ValueTask<bool> RemoveAsync(int piece, CancellationToken cancellationToken = default);
}

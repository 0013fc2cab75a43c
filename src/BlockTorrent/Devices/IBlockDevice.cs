namespace BlockTorrent.Devices;

/// <summary>
/// A fixed-length, randomly addressable store of bytes: a raw disk, a partition, an image file or memory.
/// BlockTorrent reads and writes it only through positional calls, so any order of pieces maps to final offsets.
/// </summary>
/// <remarks>
/// <para>
/// Implementations accept any offset and length inside <c>[0, Length)</c>. Devices that need alignment
/// (O_DIRECT, FILE_FLAG_NO_BUFFERING) handle unaligned requests themselves; callers that pass buffers aligned to
/// <see cref="MemoryAlignment"/> with offsets and lengths that are multiples of <see cref="LogicalSectorSize"/>
/// take the fast path. A request that reaches outside the device throws <see cref="ArgumentOutOfRangeException"/>
/// and touches nothing.
/// </para>
/// <para>
/// Calls may run concurrently for non-overlapping ranges. Optional powers are capability flags:
/// <see cref="DiscardAsync"/> throws <see cref="NotSupportedException"/> when <see cref="CanDiscard"/> is
/// <see langword="false"/>, and likewise <see cref="ZeroRangeAsync"/> with <see cref="CanZeroRange"/>.
/// </para>
/// </remarks>
public interface IBlockDevice : IAsyncDisposable
{
    /// <summary>Gets a human-readable name for the device (usually its path), used in errors and logs.</summary>
    string Name { get; }

    /// <summary>Gets the length of the device in bytes.</summary>
    long Length { get; }

    /// <summary>Gets the smallest unit the device addresses, in bytes (512 or 4096 on most disks).</summary>
    int LogicalSectorSize { get; }

    /// <summary>Gets the unit the device writes internally without a read-modify-write, in bytes.</summary>
    int PhysicalSectorSize { get; }

    /// <summary>Gets the buffer address alignment, in bytes, that lets a transfer avoid a bounce copy.</summary>
    int MemoryAlignment { get; }

    /// <summary>Gets a value indicating whether the device refuses writes.</summary>
    bool IsReadOnly { get; }

    /// <summary>Gets a value indicating whether <see cref="DiscardAsync"/> is available.</summary>
    bool CanDiscard { get; }

    /// <summary>
    /// Gets a value indicating whether every byte of the device is known to read as zero (a file just created and not
    /// written since): a writer can then skip all-zero pieces without touching the device.
    /// </summary>
    /// <value>The default is <see langword="false"/>: nothing is known about what the device holds.</value>
    bool IsKnownZeroed => false;

    /// <summary>Gets a value indicating whether <see cref="ZeroRangeAsync"/> is available.</summary>
    bool CanZeroRange { get; }

    /// <summary>Gets a value indicating whether a discarded range is guaranteed to read back as zeros.</summary>
    bool DiscardZeroesData { get; }

    /// <summary>Reads bytes at <paramref name="offset"/> into <paramref name="buffer"/>.</summary>
    /// <param name="offset">The device offset of the first byte to read.</param>
    /// <param name="buffer">Receives the bytes; its length is the number of bytes requested.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The number of bytes read; less than requested only at the end of the device.</returns>
    ValueTask<int> ReadAsync(long offset, Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>.</summary>
    /// <param name="offset">The device offset of the first byte to write.</param>
    /// <param name="data">The bytes to write; all of them are written or the call throws.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the device has accepted the bytes (not necessarily made them durable).</returns>
    ValueTask WriteAsync(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes several buffers back to back starting at <paramref name="offset"/>, as one large sequential write
    /// where the device can (pwritev, gathered I/O). The default writes them one after the other.
    /// </summary>
    /// <param name="offset">The device offset of the first byte of the first buffer.</param>
    /// <param name="buffers">The buffers, in device order.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when every buffer has been accepted.</returns>
    async ValueTask WriteGatherAsync(long offset, IReadOnlyList<ReadOnlyMemory<byte>> buffers, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(buffers);
        for (int i = 0; i < buffers.Count; i++)
        {
            await WriteAsync(offset, buffers[i], cancellationToken).ConfigureAwait(false);
            offset += buffers[i].Length;
        }
    }

    /// <summary>Makes every accepted write durable (fsync, FlushFileBuffers).</summary>
    /// <param name="cancellationToken">Cancels the wait; the flush itself may still complete.</param>
    /// <returns>A task that completes when the data is durable.</returns>
    ValueTask FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>Tells the device that a range no longer holds data (TRIM, BLKDISCARD, hole punching).</summary>
    /// <param name="offset">The start of the range.</param>
    /// <param name="length">The length of the range.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the range is discarded.</returns>
    /// <exception cref="NotSupportedException"><see cref="CanDiscard"/> is <see langword="false"/>.</exception>
    ValueTask DiscardAsync(long offset, long length, CancellationToken cancellationToken = default);

    /// <summary>Makes a range read back as zeros without sending zeros from memory where the device can (BLKZEROOUT, FALLOC_FL_ZERO_RANGE).</summary>
    /// <param name="offset">The start of the range.</param>
    /// <param name="length">The length of the range.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task that completes when the range reads as zeros.</returns>
    /// <exception cref="NotSupportedException"><see cref="CanZeroRange"/> is <see langword="false"/>.</exception>
    ValueTask ZeroRangeAsync(long offset, long length, CancellationToken cancellationToken = default);
}

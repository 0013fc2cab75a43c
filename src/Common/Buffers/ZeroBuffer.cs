namespace BlockTorrent.Buffers;

/// <summary>
/// One process-wide, aligned, read-only block of zeros, written (repeatedly, gathered) where a device cannot make a
/// range read as zeros by itself. It is allocated on first use and lives as long as the process.
/// </summary>
internal static class ZeroBuffer
{
    /// <summary>The length of the block: 1 MiB, a multiple of every sector size.</summary>
    public const int Length = 1 << 20;

    private static readonly Lazy<AlignedBuffer> Zeros = new(() => new AlignedBuffer(Length, clear: true));

    /// <summary>Gets the zeros.</summary>
    public static ReadOnlyMemory<byte> Memory => Zeros.Value.Memory;

    /// <summary>Writes zeros over a range of a device in gathered writes of up to 16 MiB.</summary>
    /// <param name="write">The gathered write to use (the device's own, or a caller's wrapper).</param>
    /// <param name="offset">The start of the range.</param>
    /// <param name="length">The length of the range.</param>
    /// <param name="cancellationToken">Cancels between writes.</param>
    /// <returns>A task that completes when the range has been written.</returns>
    public static async ValueTask WriteAsync(Func<long, IReadOnlyList<ReadOnlyMemory<byte>>, CancellationToken, ValueTask> write, long offset, long length, CancellationToken cancellationToken)
    {
        const int maxSegments = 16;
        ReadOnlyMemory<byte> zeros = Memory;
        var segments = new List<ReadOnlyMemory<byte>>(maxSegments);
        while (length > 0)
        {
            segments.Clear();
            long chunk = 0;
            while (length - chunk > 0 && segments.Count < maxSegments)
            {
                int piece = (int)Math.Min(Length, length - chunk);
                segments.Add(zeros[..piece]);
                chunk += piece;
            }

            await write(offset, segments, cancellationToken).ConfigureAwait(false);
            offset += chunk;
            length -= chunk;
        }
    }
}

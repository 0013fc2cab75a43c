namespace BlockTorrent.Devices.Windows;

/// <summary>
/// Moves an unaligned request through a sector-aligned bounce buffer, given the device's aligned read and write.
/// Writes read back the partly covered sectors first (read-modify-write), so bytes around the request survive.
/// Kept apart from the device so the algorithm is tested against an in-memory disk on any platform. The caller
/// serializes calls that share a bounce buffer.
/// </summary>
internal static class BounceTransfer
{
    /// <summary>An aligned device read of a whole number of sectors.</summary>
    internal delegate ValueTask AlignedRead(long offset, Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>An aligned device write of a whole number of sectors.</summary>
    internal delegate ValueTask AlignedWrite(long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    /// <summary>Reads <paramref name="buffer"/>'s length of bytes at <paramref name="offset"/>.</summary>
    internal static async ValueTask ReadAsync(AlignedRead read, Memory<byte> bounce, int sectorSize, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        foreach (BounceChunk chunk in BounceChunk.Plan(offset, buffer.Length, sectorSize, bounce.Length))
        {
            Memory<byte> window = bounce[..chunk.Length];
            await read(chunk.DeviceOffset, window, cancellationToken).ConfigureAwait(false);
            window.Span.Slice(chunk.BufferOffset, chunk.DataLength).CopyTo(buffer.Span[chunk.DataOffset..]);
        }
    }

    /// <summary>Writes <paramref name="data"/> at <paramref name="offset"/>, preserving the other bytes of the sectors it touches.</summary>
    internal static async ValueTask WriteAsync(AlignedRead read, AlignedWrite write, Memory<byte> bounce, int sectorSize, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        foreach (BounceChunk chunk in BounceChunk.Plan(offset, data.Length, sectorSize, bounce.Length))
        {
            Memory<byte> window = bounce[..chunk.Length];
            bool head = chunk.HasPartialHead(sectorSize);
            if (head)
            {
                await read(chunk.DeviceOffset, window[..sectorSize], cancellationToken).ConfigureAwait(false);
            }

            // A one-sector chunk whose head was read already holds its tail.
            if (chunk.HasPartialTail && (chunk.Length > sectorSize || !head))
            {
                await read(chunk.DeviceOffset + chunk.Length - sectorSize, window[^sectorSize..], cancellationToken).ConfigureAwait(false);
            }

            data.Span.Slice(chunk.DataOffset, chunk.DataLength).CopyTo(window.Span[chunk.BufferOffset..]);
            await write(chunk.DeviceOffset, window, cancellationToken).ConfigureAwait(false);
        }
    }
}

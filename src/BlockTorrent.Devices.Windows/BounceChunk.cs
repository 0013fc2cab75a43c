namespace BlockTorrent.Devices.Windows;

/// <summary>
/// One step of an unaligned transfer through a bounce buffer: the aligned device range to move, and where the
/// caller's bytes sit inside it. Produced by <see cref="Plan"/>.
/// </summary>
/// <param name="DeviceOffset">The aligned device offset of the chunk.</param>
/// <param name="Length">The aligned length of the chunk, at most the bounce buffer's size.</param>
/// <param name="BufferOffset">Where the caller's bytes start inside the chunk.</param>
/// <param name="DataOffset">The index of the first caller byte in this chunk.</param>
/// <param name="DataLength">The number of caller bytes in this chunk.</param>
internal readonly record struct BounceChunk(long DeviceOffset, int Length, int BufferOffset, int DataOffset, int DataLength)
{
    /// <summary>Returns whether the chunk's first sector is only partly the caller's, so a write must read it first.</summary>
    internal bool HasPartialHead(int sectorSize) => BufferOffset != 0 || BufferOffset + DataLength < sectorSize;

    /// <summary>Gets a value indicating whether the chunk's last sector is only partly the caller's, so a write must read it first.</summary>
    internal bool HasPartialTail => BufferOffset + DataLength != Length;

    /// <summary>
    /// Splits the transfer of <paramref name="dataLength"/> bytes at <paramref name="offset"/> into aligned chunks
    /// of at most <paramref name="bounceSize"/> bytes, in device order. Chunks cover the sectors the data touches
    /// and nothing else; together their caller ranges are exactly <c>[0, dataLength)</c>.
    /// </summary>
    internal static List<BounceChunk> Plan(long offset, int dataLength, int sectorSize, int bounceSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(dataLength);
        if (sectorSize <= 0 || bounceSize < sectorSize || bounceSize % sectorSize != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(bounceSize), bounceSize, "The bounce buffer must be a positive multiple of the sector size.");
        }

        var chunks = new List<BounceChunk>();
        if (dataLength == 0)
        {
            // No data touches no sector: an unaligned empty transfer must not read (or rewrite) the sector it points into.
            return chunks;
        }

        long end = offset + dataLength;
        long position = SectorMath.AlignDown(offset, sectorSize);
        long alignedEnd = SectorMath.AlignUp(end, sectorSize);
        int consumed = 0;
        while (position < alignedEnd)
        {
            int length = (int)Math.Min(bounceSize, alignedEnd - position);
            long dataStart = Math.Max(offset, position);
            long dataStop = Math.Min(end, position + length);
            int count = (int)(dataStop - dataStart);
            chunks.Add(new BounceChunk(position, length, (int)(dataStart - position), consumed, count));
            consumed += count;
            position += length;
        }

        return chunks;
    }
}

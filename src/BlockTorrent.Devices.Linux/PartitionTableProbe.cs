using System.Buffers.Binary;

namespace BlockTorrent.Devices.Linux;

/// <summary>
/// Tells from a disk's first two logical sectors whether it holds a partition table the kernel would parse: an MBR
/// (including GPT's protective MBR) or a GPT header. Used to judge a refused partition-table re-read: on a device the
/// kernel keeps no partitions for, that matters only when the disk has partitions to show.
/// </summary>
internal static class PartitionTableProbe
{
    private const int MbrEntries = 446;
    private const int MbrEntryLength = 16;
    private const ushort MbrSignature = 0xAA55;
    private const ulong GptSignature = 0x5452415020494645; // "EFI PART", little-endian.

    /// <summary>How many bytes from the start of the disk <see cref="HoldsPartitionTable"/> needs.</summary>
    /// <param name="logicalSectorSize">The disk's logical sector size.</param>
    /// <returns>Two logical sectors: the MBR and where a GPT header sits.</returns>
    public static int BytesNeeded(int logicalSectorSize) => 2 * logicalSectorSize;

    /// <summary>Returns whether the first sectors of a disk hold an MBR partition table or a GPT header.</summary>
    /// <param name="start">The disk's first bytes; shorter than <see cref="BytesNeeded"/> for a tiny disk.</param>
    /// <param name="logicalSectorSize">The disk's logical sector size (where the GPT header starts).</param>
    /// <returns>Whether the disk holds a partition table.</returns>
    public static bool HoldsPartitionTable(ReadOnlySpan<byte> start, int logicalSectorSize)
    {
        if (start.Length >= logicalSectorSize + 8 && BinaryPrimitives.ReadUInt64LittleEndian(start[logicalSectorSize..]) == GptSignature)
        {
            return true;
        }

        if (start.Length < 512 || BinaryPrimitives.ReadUInt16LittleEndian(start[510..]) != MbrSignature)
        {
            return false;
        }

        // A file system's boot sector (FAT, NTFS) carries the same signature with boot code where the entries would
        // be: an MBR has only 0x00 or 0x80 as each entry's boot flag, and at least one entry that is used.
        bool used = false;
        for (int i = 0; i < 4; i++)
        {
            ReadOnlySpan<byte> entry = start.Slice(MbrEntries + (i * MbrEntryLength), MbrEntryLength);
            if (entry[0] is not (0x00 or 0x80))
            {
                return false;
            }

            used |= entry[4] != 0 && BinaryPrimitives.ReadUInt32LittleEndian(entry[12..]) != 0;
        }

        return used;
    }
}

using BlockTorrent.Manifest;

namespace BlockTorrent.Tests.Manifest;

/// <summary>
/// Images spelled block by block, 16 KiB each: <c>r</c> a block of fresh random bytes, <c>z</c> zeros, a digit
/// <c>k</c> a copy of the k-th <c>r</c> block; spaces (between pieces, for the reader) are ignored.
/// </summary>
internal static class BlockImages
{
    public const int BlockSize = BlockMap.BlockSize;

    public static byte[] Build(string blocks, int seed = 1, int tail = 0)
    {
        string kinds = blocks.Replace(" ", string.Empty, StringComparison.Ordinal);
        byte[] image = new byte[(kinds.Length * BlockSize) + tail];
        var random = new Random(seed);
        var fresh = new List<int>();
        for (int b = 0; b < kinds.Length; b++)
        {
            Span<byte> block = image.AsSpan(b * BlockSize, BlockSize);
            if (kinds[b] == 'r')
            {
                random.NextBytes(block);
                fresh.Add(b);
            }
            else if (char.IsAsciiDigit(kinds[b]))
            {
                image.AsSpan(fresh[kinds[b] - '0'] * BlockSize, BlockSize).CopyTo(block);
            }
        }

        random.NextBytes(image.AsSpan(kinds.Length * BlockSize));
        return image;
    }

    /// <summary>Every mapped block of every piece, as (image block, source) pairs, in order.</summary>
    public static List<(long Block, long Source)> Mapped(BlockMap map, long blocks, int blocksPerPiece)
    {
        var mapped = new List<(long, long)>();
        for (long first = 0; first < blocks; first += blocksPerPiece)
        {
            int count = (int)Math.Min(blocksPerPiece, blocks - first);
            foreach ((int block, long source) in map.InPiece(first, count))
            {
                Assert.InRange(block, 0, count - 1);
                mapped.Add((first + block, source));
            }
        }

        return mapped;
    }
}

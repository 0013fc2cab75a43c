using System.Buffers.Binary;

namespace BlockTorrent.Testing;

/// <summary>
/// Deterministic disk-image-like test data: incompressible random blocks, long runs of zeros and blocks that repeat
/// elsewhere in the image, all derived from a seed. The byte at any offset is a pure function of
/// (<see cref="Seed"/>, <see cref="BlockSize"/>, offset), so a huge image can be generated, or regenerated to
/// compare, piece by piece without holding it in memory.
/// </summary>
/// <remarks>
/// The image is cut into blocks of <see cref="BlockSize"/> bytes. Blocks are grouped into runs of
/// <see cref="ZeroRunBlocks"/>; a run is all zeros with probability <see cref="ZeroRunPercent"/> (long zero runs,
/// like the unused tail of a partition). In other runs each block is, independently: zeros
/// (<see cref="ZeroBlockPercent"/>), a copy of one of <see cref="RepeatPatterns"/> shared patterns
/// (<see cref="RepeatBlockPercent"/>; duplicates, like identical files) or unique random bytes. The first block is
/// always unique random bytes. Choose <see cref="BlockSize"/> as a multiple of the piece length to get whole zero and
/// duplicate pieces.
/// </remarks>
public sealed record TestImage
{
    /// <summary>Gets the image length in bytes.</summary>
    public required long Length { get; init; }

    /// <summary>Gets the seed; images with the same settings and seed are identical.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Gets the granularity of the zero/repeat/random layout, in bytes. The default is 64 KiB.</summary>
    public int BlockSize { get; init; } = 64 * 1024;

    /// <summary>Gets the number of blocks in a run that may be all zeros. The default is 16.</summary>
    public int ZeroRunBlocks { get; init; } = 16;

    /// <summary>Gets the chance, in percent, that a run is all zeros. The default is 20.</summary>
    public int ZeroRunPercent { get; init; } = 20;

    /// <summary>Gets the chance, in percent, that a single block (outside zero runs) is zeros. The default is 5.</summary>
    public int ZeroBlockPercent { get; init; } = 5;

    /// <summary>Gets the chance, in percent, that a block repeats a shared pattern. The default is 15.</summary>
    public int RepeatBlockPercent { get; init; } = 15;

    /// <summary>Gets the number of distinct repeated patterns. The default is 3.</summary>
    public int RepeatPatterns { get; init; } = 3;

    /// <summary>What a block of the image holds.</summary>
    public enum BlockKind
    {
        /// <summary>All zeros.</summary>
        Zero,

        /// <summary>A copy of a shared pattern (a duplicate of other blocks).</summary>
        Repeat,

        /// <summary>Unique random bytes.</summary>
        Random,
    }

    /// <summary>
    /// Creates an image of <paramref name="pieces"/> pieces whose layout blocks are its pieces, with about
    /// <paramref name="zeroPercent"/> % all-zero pieces and <paramref name="duplicatePercent"/> % copies of
    /// <paramref name="patterns"/> repeated pieces (together at most 100 %; the rest unique), the first piece unique.
    /// </summary>
    /// <param name="pieceLength">The piece length, a multiple of 8.</param>
    /// <param name="pieces">The number of pieces.</param>
    /// <param name="zeroPercent">The chance, in percent, that a piece is all zeros.</param>
    /// <param name="duplicatePercent">The chance, in percent, that a piece repeats one of the patterns.</param>
    /// <param name="shortLastPiece">Whether the last piece is shorter than the others (by a quarter and 8 bytes).</param>
    /// <param name="seed">The seed.</param>
    /// <param name="patterns">The number of distinct repeated pieces.</param>
    /// <returns>The image.</returns>
    public static TestImage WithPieces(int pieceLength, int pieces, int zeroPercent, int duplicatePercent, bool shortLastPiece = true, int seed = 1, int patterns = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pieces, 1);
        long length = (long)pieceLength * pieces;
        return new TestImage
        {
            Length = shortLastPiece ? length - (pieceLength / 4) - 8 : length,
            Seed = seed,
            BlockSize = pieceLength,
            ZeroRunPercent = 0,
            ZeroBlockPercent = zeroPercent,
            RepeatBlockPercent = duplicatePercent,
            RepeatPatterns = patterns,
        };
    }

    /// <summary>
    /// Creates an image of one of the <see cref="TestImageShape"/>s every swarm mode is tested on, in whole pieces of
    /// <paramref name="pieceLength"/> and a short last piece.
    /// </summary>
    /// <param name="shape">The shape.</param>
    /// <param name="pieceLength">The piece length, a multiple of 8.</param>
    /// <param name="pieces">The number of pieces.</param>
    /// <param name="seed">The seed.</param>
    /// <returns>The image.</returns>
    public static TestImage Realistic(TestImageShape shape, int pieceLength, int pieces, int seed = 1) => shape switch
    {
        TestImageShape.Dense => WithPieces(pieceLength, pieces, 0, 0, seed: seed),
        TestImageShape.ZeroRuns => WithPieces(pieceLength, pieces, 10, 0, seed: seed) with { ZeroRunPercent = 40, ZeroRunBlocks = 4 },
        TestImageShape.Duplicates => WithPieces(pieceLength, pieces, 0, 40, seed: seed, patterns: 4),
        TestImageShape.ZerosAndDuplicates => WithPieces(pieceLength, pieces, 15, 20, seed: seed, patterns: 4) with { ZeroRunPercent = 35, ZeroRunBlocks = 4 },
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, "Not a shape."),
    };

    /// <summary>Gets the number of layout blocks (the last may be partial).</summary>
    public long BlockCount => (Length + BlockSize - 1) / BlockSize;

    /// <summary>Gets what block <paramref name="block"/> holds.</summary>
    /// <param name="block">The block index.</param>
    /// <returns>The block's kind.</returns>
    public BlockKind GetBlockKind(long block) => Classify(block, out _);

    /// <summary>Generates the whole image in memory.</summary>
    /// <returns>The image bytes.</returns>
    public byte[] ToArray()
    {
        if (Length > Array.MaxLength)
        {
            throw new InvalidOperationException($"A {Length}-byte image does not fit in an array; use Fill or WriteFileAsync.");
        }

        byte[] image = new byte[Length];
        Fill(0, image);
        return image;
    }

    /// <summary>Fills <paramref name="destination"/> with the image bytes that start at <paramref name="offset"/>.</summary>
    /// <param name="offset">The image offset of the first byte.</param>
    /// <param name="destination">Receives the bytes; it must not reach past <see cref="Length"/>.</param>
    public void Fill(long offset, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        if (offset + destination.Length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(destination), "The range reaches past the end of the image.");
        }

        if (BlockSize <= 0 || BlockSize % 8 != 0)
        {
            throw new InvalidOperationException("BlockSize must be a positive multiple of 8.");
        }

        byte[]? scratch = null;
        while (!destination.IsEmpty)
        {
            long block = offset / BlockSize;
            int within = (int)(offset % BlockSize);
            int count = (int)Math.Min(destination.Length, BlockSize - within);
            Span<byte> target = destination[..count];
            BlockKind kind = Classify(block, out ulong contentSeed);
            if (kind == BlockKind.Zero)
            {
                target.Clear();
            }
            else if (within == 0 && count == BlockSize)
            {
                FillRandom(contentSeed, target);
            }
            else
            {
                scratch ??= new byte[BlockSize];
                FillRandom(contentSeed, scratch);
                scratch.AsSpan(within, count).CopyTo(target);
            }

            offset += count;
            destination = destination[count..];
        }
    }

    /// <summary>Writes the image to a file (created or truncated), in large sequential chunks.</summary>
    /// <param name="path">The file path.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the file is written.</returns>
    public async Task WriteFileAsync(string path, CancellationToken cancellationToken = default)
    {
        const int chunk = 8 * 1024 * 1024;
        byte[] buffer = new byte[(int)Math.Min(chunk, Math.Max(Length, 1))];
        await using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1, FileOptions.Asynchronous);
        for (long offset = 0; offset < Length; offset += buffer.Length)
        {
            int count = (int)Math.Min(buffer.Length, Length - offset);
            Fill(offset, buffer.AsSpan(0, count));
            await file.WriteAsync(buffer.AsMemory(0, count), cancellationToken);
        }
    }

    /// <summary>
    /// Returns a copy of <paramref name="image"/> in which <paramref name="blocks"/> blocks of <see cref="BlockSize"/>
    /// (chosen by <paramref name="seed"/>) hold new random bytes: the "next version" of an image, for delta re-imaging.
    /// </summary>
    /// <param name="image">The original image.</param>
    /// <param name="seed">Chooses the blocks and their new content.</param>
    /// <param name="blocks">How many blocks to change (a block may be chosen twice).</param>
    /// <returns>The modified copy.</returns>
    public byte[] Modify(ReadOnlySpan<byte> image, int seed, int blocks)
    {
        byte[] copy = image.ToArray();
        long blockCount = (copy.Length + BlockSize - 1) / BlockSize;
        ulong state = Mix(((ulong)(uint)seed << 32) ^ 0xB10C_7022);
        byte[] scratch = new byte[BlockSize];
        for (int i = 0; i < blocks && blockCount > 0; i++)
        {
            state = Mix(state + (ulong)i);
            long block = (long)(state % (ulong)blockCount);
            int start = (int)(block * BlockSize);
            int count = Math.Min(BlockSize, copy.Length - start);
            FillRandom(Mix(state ^ 0x5EED), scratch);
            scratch.AsSpan(0, count).CopyTo(copy.AsSpan(start, count));
        }

        return copy;
    }

    private BlockKind Classify(long block, out ulong contentSeed)
    {
        ulong seed = (ulong)(uint)Seed << 32;
        contentSeed = Mix(seed ^ Mix((ulong)block + 0x1000));
        if (block == 0)
        {
            return BlockKind.Random;
        }

        ulong run = Mix(seed ^ Mix((ulong)(block / Math.Max(1, ZeroRunBlocks)) + 0x2000_0000_0000));
        if (run % 100 < (ulong)ZeroRunPercent)
        {
            return BlockKind.Zero;
        }

        ulong roll = Mix(seed ^ Mix((ulong)block + 0x4000_0000_0000)) % 100;
        if (roll < (ulong)ZeroBlockPercent)
        {
            return BlockKind.Zero;
        }

        if (roll < (ulong)(ZeroBlockPercent + RepeatBlockPercent) && RepeatPatterns > 0)
        {
            ulong pattern = Mix((ulong)block ^ 0x7777) % (ulong)RepeatPatterns;
            contentSeed = Mix(seed ^ Mix(pattern + 0x6000_0000_0000));
            return BlockKind.Repeat;
        }

        return BlockKind.Random;
    }

    // xoshiro256** seeded by SplitMix64: fast and incompressible enough for hashing and compression-proof tests.
    private static void FillRandom(ulong seed, Span<byte> destination)
    {
        ulong s0 = Mix(seed + 1), s1 = Mix(seed + 2), s2 = Mix(seed + 3), s3 = Mix(seed + 4);
        int i = 0;
        for (; i + 8 <= destination.Length; i += 8)
        {
            ulong result = ulong.RotateLeft(s1 * 5, 7) * 9;
            ulong t = s1 << 17;
            s2 ^= s0;
            s3 ^= s1;
            s1 ^= s2;
            s0 ^= s3;
            s2 ^= t;
            s3 = ulong.RotateLeft(s3, 45);
            BinaryPrimitives.WriteUInt64LittleEndian(destination[i..], result);
        }

        for (; i < destination.Length; i++)
        {
            destination[i] = (byte)Mix(s0 + (ulong)i);
        }
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E37_79B9_7F4A_7C15;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB;
        return z ^ (z >> 31);
    }
}

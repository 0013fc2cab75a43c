using System.Buffers.Binary;
using System.Globalization;

namespace BlockTorrent.Manifest;

/// <summary>
/// Which 16 KiB blocks inside an image's pieces need not travel: blocks that are all zeros, and blocks that repeat an
/// earlier block of the image. A target fills them in locally and requests only the rest of the piece.
/// </summary>
/// <remarks>
/// <para>
/// The map lives outside the info dictionary (the .torrent's <see cref="Key"/> entry, as <c>piece layers</c> does),
/// so other clients ignore it and the info-hash does not cover it. It is a hint, never trusted: a piece assembled
/// from it is verified against the manifest's piece hash like any other, so a wrong map can only make that piece
/// fail its check (and then the piece is fetched whole), never put a wrong byte on a device.
/// </para>
/// <para>
/// Encoding: a byte string of 12-byte records, each three big-endian 32-bit numbers — the first block of a run, the
/// run's block count, and the first block it repeats (<c>0xFFFFFFFF</c> for zeros). Blocks are counted in 16 KiB
/// from the image's start; only full blocks appear. Runs are sorted and disjoint, a repeated run's source lies wholly
/// before it, and no source block is itself in the map, so every source is a block that travels (or is on the device).
/// Blocks of all-zero pieces and of later copies of duplicate pieces are left out: those pieces never travel at all.
/// </para>
/// </remarks>
internal sealed class BlockMap
{
    /// <summary>The key of the map in a .torrent's top-level dictionary.</summary>
    public const string Key = "blocktorrent blocks";

    /// <summary>The block size the map counts in: the BEP 52 leaf size, and the request size.</summary>
    public const int BlockSize = MerkleTree.BlockSize;

    /// <summary>The source of a zero block in <see cref="InPiece"/>.</summary>
    public const long Zero = -1;

    private const int RecordSize = 12;
    private const uint ZeroSource = uint.MaxValue;

    private readonly uint[] _start;
    private readonly uint[] _count;
    private readonly uint[] _source;

    private BlockMap(uint[] start, uint[] count, uint[] source)
    {
        _start = start;
        _count = count;
        _source = source;
        for (int i = 0; i < start.Length; i++)
        {
            if (source[i] == ZeroSource)
            {
                ZeroBlocks += count[i];
            }
            else
            {
                RepeatedBlocks += count[i];
            }
        }
    }

    /// <summary>Gets the number of runs.</summary>
    public int RunCount => _start.Length;

    /// <summary>Gets the number of all-zero blocks the map names.</summary>
    public long ZeroBlocks { get; }

    /// <summary>Gets the number of blocks the map names as repeating an earlier block.</summary>
    public long RepeatedBlocks { get; }

    /// <summary>
    /// Reads an encoded map, checking it against the image: records whole, runs sorted, disjoint and inside the
    /// image's full blocks, sources before their runs and outside every run.
    /// </summary>
    /// <param name="data">The encoded map.</param>
    /// <param name="imageLength">The image length in bytes.</param>
    /// <returns>The map.</returns>
    /// <exception cref="InvalidTorrentException">The map breaks one of the rules above.</exception>
    public static BlockMap Parse(ReadOnlySpan<byte> data, long imageLength)
    {
        if (data.Length % RecordSize != 0)
        {
            throw Invalid($"is {data.Length} bytes, not a whole number of {RecordSize}-byte records");
        }

        long fullBlocks = imageLength / BlockSize;
        int runs = data.Length / RecordSize;
        uint[] start = new uint[runs], count = new uint[runs], source = new uint[runs];
        long end = 0;
        for (int i = 0; i < runs; i++)
        {
            ReadOnlySpan<byte> record = data.Slice(i * RecordSize, RecordSize);
            start[i] = BinaryPrimitives.ReadUInt32BigEndian(record);
            count[i] = BinaryPrimitives.ReadUInt32BigEndian(record[4..]);
            source[i] = BinaryPrimitives.ReadUInt32BigEndian(record[8..]);
            if (count[i] == 0 || start[i] < end || (long)start[i] + count[i] > fullBlocks)
            {
                throw Invalid(string.Create(CultureInfo.InvariantCulture, $"run {i} (blocks {start[i]} + {count[i]}) is empty, out of order, overlaps the one before, or lies beyond the image's {fullBlocks} full blocks"));
            }

            if (source[i] != ZeroSource && (long)source[i] + count[i] > start[i])
            {
                throw Invalid(string.Create(CultureInfo.InvariantCulture, $"run {i} (blocks {start[i]} + {count[i]}) repeats blocks from {source[i]}, which do not lie wholly before it"));
            }

            end = (long)start[i] + count[i];
        }

        var map = new BlockMap(start, count, source);
        for (int i = 0; i < runs; i++)
        {
            if (source[i] != ZeroSource && map.Overlaps(source[i], count[i]))
            {
                throw Invalid(string.Create(CultureInfo.InvariantCulture, $"run {i} repeats blocks {source[i]} + {count[i]}, and some of those are in the map themselves"));
            }
        }

        return map;
    }

    /// <summary>Encodes the map as the byte string of its <see cref="Key"/> entry.</summary>
    /// <returns>The encoded map.</returns>
    public byte[] Encode()
    {
        byte[] data = new byte[_start.Length * RecordSize];
        for (int i = 0; i < _start.Length; i++)
        {
            Span<byte> record = data.AsSpan(i * RecordSize, RecordSize);
            BinaryPrimitives.WriteUInt32BigEndian(record, _start[i]);
            BinaryPrimitives.WriteUInt32BigEndian(record[4..], _count[i]);
            BinaryPrimitives.WriteUInt32BigEndian(record[8..], _source[i]);
        }

        return data;
    }

    /// <summary>
    /// Enumerates the mapped blocks of a piece, in order, without allocating: each as its index inside the piece
    /// and its source (an image block index, or <see cref="Zero"/>).
    /// </summary>
    /// <param name="firstBlock">The piece's first block in the image (its offset / 16 KiB).</param>
    /// <param name="blockCount">The piece's number of blocks.</param>
    /// <returns>The enumerator.</returns>
    public PieceBlocks InPiece(long firstBlock, int blockCount) => new(this, firstBlock, firstBlock + blockCount);

    // Whether any run intersects blocks [from, from + count).
    private bool Overlaps(long from, long count)
    {
        int i = FirstEndingAfter(from);
        return i < _start.Length && _start[i] < from + count;
    }

    // The first run whose end lies after block (runs are sorted and disjoint, so their ends are sorted too).
    private int FirstEndingAfter(long block)
    {
        int lo = 0, hi = _start.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if ((long)_start[mid] + _count[mid] <= block)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static InvalidTorrentException Invalid(string what) => new($"Invalid torrent: '{Key}' {what}.");

    /// <summary>The mapped blocks of one piece; a struct enumerator, so a <c>foreach</c> allocates nothing.</summary>
    public struct PieceBlocks
    {
        private readonly BlockMap _map;
        private readonly long _first;
        private readonly long _end;
        private int _run;
        private long _block;

        internal PieceBlocks(BlockMap map, long first, long end)
        {
            _map = map;
            _first = first;
            _end = end;
            _run = map.FirstEndingAfter(first);
            _block = first - 1;
            Current = default;
        }

        /// <summary>Gets the current block: its index inside the piece, and its source block or <see cref="Zero"/>.</summary>
        public (int Block, long Source) Current { get; private set; }

        /// <summary>Returns this enumerator.</summary>
        /// <returns>This enumerator.</returns>
        public readonly PieceBlocks GetEnumerator() => this;

        /// <summary>Moves to the next mapped block of the piece.</summary>
        /// <returns><see langword="false"/> after the last.</returns>
        public bool MoveNext()
        {
            uint[] start = _map._start;
            while (_run < start.Length)
            {
                long runStart = start[_run];
                long runEnd = runStart + _map._count[_run];
                long next = Math.Max(_block + 1, Math.Max(runStart, _first));
                if (next >= _end || runStart >= _end)
                {
                    _run = start.Length;
                    return false;
                }

                if (next < runEnd)
                {
                    _block = next;
                    uint source = _map._source[_run];
                    Current = ((int)(next - _first), source == ZeroSource ? Zero : source + (next - runStart));
                    return true;
                }

                _run++;
            }

            return false;
        }
    }

    /// <summary>Collects mapped blocks in ascending order into runs.</summary>
    internal sealed class Builder
    {
        private readonly List<uint> _start = [];
        private readonly List<uint> _count = [];
        private readonly List<uint> _source = [];

        /// <summary>Gets a value indicating whether no block was added.</summary>
        public bool IsEmpty => _start.Count == 0;

        /// <summary>Adds a block (in ascending order) with its source block, or <see cref="Zero"/>.</summary>
        /// <param name="block">The block, after every block added before.</param>
        /// <param name="source">An earlier block not in the map, or <see cref="Zero"/>.</param>
        public void Add(long block, long source)
        {
            uint s = source == Zero ? ZeroSource : (uint)source;
            int last = _start.Count - 1;
            if (last >= 0 && _start[last] + _count[last] == block
                && (s == ZeroSource ? _source[last] == ZeroSource : _source[last] != ZeroSource && _source[last] + _count[last] == s))
            {
                _count[last]++;
                return;
            }

            _start.Add((uint)block);
            _count.Add(1);
            _source.Add(s);
        }

        /// <summary>Makes the map.</summary>
        /// <returns>The map.</returns>
        public BlockMap Build() => new([.. _start], [.. _count], [.. _source]);
    }
}

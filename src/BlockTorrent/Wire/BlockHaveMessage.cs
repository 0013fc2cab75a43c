using System.Buffers;
using BlockTorrent.Bencode;

namespace BlockTorrent.Wire;

/// <summary>
/// BlockTorrent's <c>bt_blocks</c> extension message (BEP 10): the 16 KiB blocks of a piece still arriving that the
/// sender holds and has checked against their BEP 52 leaf hashes, as the bencoded dictionary
/// <c>d1:b&lt;bitmap&gt;1:pi&lt;piece&gt;ee</c>. The bitmap has one bit per block of the piece, most significant bit
/// first, exactly ⌈blocks / 8⌉ bytes with the spare bits clear; it states the sender's whole set for the piece, not a
/// change. Other clients never see it: it is sent only to peers that name it in their extended handshake.
/// </summary>
/// <remarks>docs/BLOCK-RELAY.md describes the exchange this message is part of.</remarks>
internal sealed class BlockHaveMessage
{
    /// <summary>The extension message's name in the extended handshake's <c>m</c> dictionary.</summary>
    public const string Name = "bt_blocks";

    /// <summary>The most blocks a piece may have for this message: 65 536, a 1 GiB piece in 16 KiB blocks.</summary>
    public const int MaxBlocksPerPiece = 65_536;

    private readonly byte[] _bitmap;

    /// <summary>Initializes a new instance of the <see cref="BlockHaveMessage"/> class.</summary>
    /// <param name="piece">The piece index.</param>
    /// <param name="blockCount">The number of blocks in the piece, 1 to <see cref="MaxBlocksPerPiece"/>.</param>
    public BlockHaveMessage(int piece, int blockCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(piece);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(blockCount, MaxBlocksPerPiece);
        Piece = piece;
        BlockCount = blockCount;
        _bitmap = new byte[BitmapLength(blockCount)];
    }

    private BlockHaveMessage(int piece, int blockCount, byte[] bitmap)
    {
        Piece = piece;
        BlockCount = blockCount;
        _bitmap = bitmap;
    }

    /// <summary>Gets the piece index.</summary>
    public int Piece { get; }

    /// <summary>Gets the number of blocks in the piece.</summary>
    public int BlockCount { get; }

    /// <summary>Gets the bitmap as it travels.</summary>
    public ReadOnlySpan<byte> Bitmap => _bitmap;

    /// <summary>Gets the number of blocks held.</summary>
    public int HeldCount
    {
        get
        {
            int count = 0;
            foreach (byte b in _bitmap)
            {
                count += System.Numerics.BitOperations.PopCount(b);
            }

            return count;
        }
    }

    /// <summary>The bitmap's length in bytes for a piece of <paramref name="blockCount"/> blocks.</summary>
    /// <param name="blockCount">The number of blocks in the piece.</param>
    /// <returns>⌈blockCount / 8⌉.</returns>
    public static int BitmapLength(int blockCount) => (blockCount + 7) / 8;

    /// <summary>Whether block <paramref name="block"/> is held.</summary>
    /// <param name="block">The block index, 0 ≤ block &lt; <see cref="BlockCount"/>.</param>
    /// <returns><see langword="true"/> when the sender holds it verified.</returns>
    public bool Has(int block)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(block);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(block, BlockCount);
        return (_bitmap[block >> 3] & (0x80 >> (block & 7))) != 0;
    }

    /// <summary>Marks block <paramref name="block"/> held.</summary>
    /// <param name="block">The block index, 0 ≤ block &lt; <see cref="BlockCount"/>.</param>
    public void Set(int block)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(block);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(block, BlockCount);
        _bitmap[block >> 3] |= (byte)(0x80 >> (block & 7));
    }

    /// <summary>Parses a payload (after the extension id byte) for a torrent whose pieces are known.</summary>
    /// <param name="payload">The bencoded dictionary.</param>
    /// <param name="blockCountOf">
    /// The number of blocks of a piece index, or 0 when the index is not a piece of the torrent (or its piece is not
    /// relayed by blocks); called only with indices 0 ≤ piece ≤ <see cref="int.MaxValue"/>.
    /// </param>
    /// <returns>
    /// The message, or <see langword="null"/> unless the payload is a dictionary with an integer <c>p</c> naming a
    /// piece and a string <c>b</c> of exactly that piece's bitmap length with its spare bits clear.
    /// </returns>
    public static BlockHaveMessage? TryParse(ReadOnlySpan<byte> payload, Func<int, int> blockCountOf)
    {
        ArgumentNullException.ThrowIfNull(blockCountOf);
        var reader = new BencodeReader(payload, BencodeReaderOptions.Lenient);
        if (!reader.TryReadStartDictionary())
        {
            return null;
        }

        long piece = -1;
        ReadOnlySpan<byte> bitmap = default;
        bool hasBitmap = false;
        while (reader.TryReadEntry(out ReadOnlySpan<byte> key))
        {
            if (reader.TokenType == BencodeTokenType.Integer && key.SequenceEqual("p"u8))
            {
                piece = reader.IntegerValue;
            }
            else if (reader.TokenType == BencodeTokenType.String && key.SequenceEqual("b"u8))
            {
                bitmap = reader.ValueSpan;
                hasBitmap = true;
            }
            else if (!reader.TrySkip())
            {
                return null;
            }
        }

        if (reader.HasError || !hasBitmap || piece is < 0 or > int.MaxValue)
        {
            return null;
        }

        int blockCount = blockCountOf((int)piece);
        if (blockCount is <= 0 or > MaxBlocksPerPiece || bitmap.Length != BitmapLength(blockCount))
        {
            return null;
        }

        int spare = (8 - (blockCount & 7)) & 7;
        if (spare != 0 && (bitmap[^1] & ((1 << spare) - 1)) != 0)
        {
            return null;
        }

        return new BlockHaveMessage((int)piece, blockCount, bitmap.ToArray());
    }

    /// <summary>Writes the bencoded dictionary.</summary>
    /// <param name="output">Where to write it.</param>
    public void WriteTo(IBufferWriter<byte> output)
    {
        var e = new BencodeWriter(output);
        e.WriteStartDictionary();
        e.WriteString("b"u8);
        e.WriteString(_bitmap);
        e.WriteString("p"u8);
        e.WriteInteger(Piece);
        e.WriteEnd();
    }
}

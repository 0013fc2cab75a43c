using System.Buffers;
using System.Text;
using BlockTorrent.Swarm.Extensions;
using BlockTorrent.Testing;
using BlockTorrent.Wire;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Wire;

/// <summary>BlockTorrent's <c>bt_blocks</c> message: the verified blocks of a piece still arriving.</summary>
public sealed class BlockHaveMessageTests
{
    [Fact]
    public void AnyBlockSetRoundTripsAndAHandshakeNamingItGivesItsId() => Prop.ForAll(
        Gen.Zip(Gen.Choose(0, int.MaxValue), Gen.Choose(1, 2048)).SelectMany(p => Gen.ListOf(Gen.Choose(0, p.Item2 - 1)).Select(set => (p.Item1, p.Item2, set))).ToArbitrary(),
        input =>
        {
            (int piece, int blockCount, IList<int> set) = input;
            var message = new BlockHaveMessage(piece, blockCount);
            foreach (int block in set)
            {
                message.Set(block);
            }

            var output = new ArrayBufferWriter<byte>();
            message.WriteTo(output);
            BlockHaveMessage? parsed = BlockHaveMessage.TryParse(output.WrittenSpan, p => p == piece ? blockCount : 0);

            var registry = new ExtensionRegistry();
            registry.Add(new MetadataServer(new byte[1]));
            registry.Add(new BlockRelayExchange(_ => blockCount, (_, _) => { }), BlockRelayExchange.WantedId);

            return parsed is not null && parsed.Piece == piece && parsed.BlockCount == blockCount
                && Enumerable.Range(0, blockCount).All(b => parsed.Has(b) == set.Contains(b))
                && parsed.HeldCount == set.Distinct().Count()
                && ExtensionHandshake.TryParse(registry.EncodeHandshake(0, 6881, 2048), out ExtensionHandshake handshake)
                && handshake.Blocks == BlockRelayExchange.WantedId
                && handshake.IdFor(BlockHaveMessage.Name) == BlockRelayExchange.WantedId;
        }).CheckSeeded(maxTest: 200);

    [Fact]
    public void AnyMutatedBlockSetParsesOnlyToAnIndexAndBitmapItsTorrentAllows() => Prop.ForAll(
        Gen.Zip(Gen.Zip(Gen.Choose(0, 100), Gen.Choose(1, 300)), ArbMap.Default.GeneratorFor<Tuple<int, byte, int>>()).ToArbitrary(),
        input =>
        {
            ((int piece, int blockCount), Tuple<int, byte, int> mutation) = input;
            var message = new BlockHaveMessage(piece, blockCount);
            message.Set(blockCount - 1);
            var output = new ArrayBufferWriter<byte>();
            message.WriteTo(output);
            byte[] mutated = Tests.Bencode.ByteMutation.Apply(output.WrittenSpan.ToArray(), mutation);

            // The torrent has 101 pieces, each of blockCount blocks.
            BlockHaveMessage? parsed = BlockHaveMessage.TryParse(mutated, p => p <= 100 ? blockCount : 0);
            return parsed is null
                || (parsed.Piece is >= 0 and <= 100 && parsed.BlockCount == blockCount
                    && parsed.Bitmap.Length == BlockHaveMessage.BitmapLength(blockCount)
                    && Enumerable.Range(0, blockCount).Count(parsed.Has) == parsed.HeldCount);
        }).CheckSeeded(maxTest: 500);

    [Theory]
    [InlineData("d1:b1:\u00801:pi-1ee", "a negative piece")]
    [InlineData("d1:b1:\u00801:pi4294967296ee", "a piece past any index")]
    [InlineData("d1:b1:\u00801:pi7ee", "a piece the torrent does not have")]
    [InlineData("d1:b2:\u0080\u00001:pi0ee", "a bitmap one byte too long")]
    [InlineData("d1:b0:1:pi0ee", "an empty bitmap")]
    [InlineData("d1:b1:\u00811:pi0ee", "a spare bit set")]
    [InlineData("d1:pi0ee", "no bitmap")]
    [InlineData("d1:bi1e1:pi0ee", "a bitmap that is an integer")]
    [InlineData("d1:b1:\u0080e", "no piece")]
    [InlineData("li0ee", "a list")]
    public void AnInvalidBlockSetIsRefused(string payload, string what)
    {
        // Piece 0 of a torrent of 5 pieces has 5 blocks: one bitmap byte, its 3 low bits spare.
        Assert.True(BlockHaveMessage.TryParse(Encoding.Latin1.GetBytes(payload), p => p < 5 ? 5 : 0) is null, what);
    }

    [Fact]
    public void TheFirstBlockOfAFiveBlockPieceParsesWithItsSpareBitsClear()
    {
        BlockHaveMessage? parsed = BlockHaveMessage.TryParse(Encoding.Latin1.GetBytes("d1:b1:\u00801:pi4ee"), p => p < 5 ? 5 : 0);

        Assert.NotNull(parsed);
        Assert.Equal(4, parsed.Piece);
        Assert.True(parsed.Has(0));
        Assert.Equal(1, parsed.HeldCount);
    }

    [Fact]
    public void AHugePieceIsRefusedBeforeItsBitmapIsSized()
    {
        Assert.Null(BlockHaveMessage.TryParse(Encoding.Latin1.GetBytes("d1:b1:\u00801:pi0ee"), _ => BlockHaveMessage.MaxBlocksPerPiece + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockHaveMessage(0, BlockHaveMessage.MaxBlocksPerPiece + 1));
    }
}

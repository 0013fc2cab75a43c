using System.Buffers;
using System.Security.Cryptography;
using BlockTorrent.Manifest;
using BlockTorrent.Swarm;
using BlockTorrent.Swarm.Extensions;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Swarm;

/// <summary>The parts of block relaying built so far: leaf hashes, what a peer announces, and the exchange.</summary>
public sealed class BlockRelayTests
{
    private const int Width = 64; // a 1 MiB piece

    [Theory]
    [InlineData(Width * MerkleTree.BlockSize)]
    [InlineData((5 * MerkleTree.BlockSize) + 100)]
    public void LeafHashesComputedFromAPieceProveAgainstItsHashAndMatchEveryBlock(int size)
    {
        byte[] piece = RandomNumberGenerator.GetBytes(size);
        byte[] pieceHash = new byte[MerkleTree.HashSize];
        MerkleTree.ComputeRoot(piece, Width, pieceHash);

        LeafHashes computed = LeafHashes.Compute(piece, Width);
        LeafHashes? proven = LeafHashes.TryProve(pieceHash, Width, size, computed.Leaves);

        Assert.NotNull(proven);
        for (int block = 0; block < proven.BlockCount; block++)
        {
            int start = block * MerkleTree.BlockSize;
            Assert.True(proven.Matches(block, piece.AsSpan(start, Math.Min(MerkleTree.BlockSize, size - start))));
        }
    }

    [Fact]
    public void LeafHashesWithOneBitChangedOrPaddingFilledInDoNotProve()
    {
        int size = 5 * MerkleTree.BlockSize;
        byte[] piece = RandomNumberGenerator.GetBytes(size);
        byte[] pieceHash = new byte[MerkleTree.HashSize];
        MerkleTree.ComputeRoot(piece, Width, pieceHash);
        byte[] leaves = LeafHashes.Compute(piece, Width).Leaves.ToArray();

        byte[] flipped = (byte[])leaves.Clone();
        flipped[3] ^= 1;
        byte[] padded = (byte[])leaves.Clone();
        padded[^1] = 1;

        Assert.Null(LeafHashes.TryProve(pieceHash, Width, size, flipped));
        Assert.Null(LeafHashes.TryProve(pieceHash, Width, size, padded));
        Assert.Null(LeafHashes.TryProve(pieceHash, Width, size, leaves.AsSpan(0, leaves.Length - 1)));
        Assert.Null(LeafHashes.TryProve(pieceHash, Width, size + (Width * MerkleTree.BlockSize), leaves));
    }

    [Fact]
    public void ABlockWithOneByteChangedOrOutOfRangeDoesNotMatch()
    {
        byte[] piece = RandomNumberGenerator.GetBytes(4 * MerkleTree.BlockSize);
        LeafHashes leaves = LeafHashes.Compute(piece, 4);
        byte[] block = piece.AsSpan(MerkleTree.BlockSize, MerkleTree.BlockSize).ToArray();
        block[100] ^= 0x40;

        Assert.False(leaves.Matches(1, block));
        Assert.False(leaves.Matches(4, piece.AsSpan(0, MerkleTree.BlockSize)));
        Assert.False(leaves.Matches(-1, piece.AsSpan(0, MerkleTree.BlockSize)));
        Assert.False(leaves.Matches(0, piece.AsSpan(0, MerkleTree.BlockSize + 1)));
    }

    [Fact]
    public void AnnouncementsAreUnitedPerPieceAndNewPiecesBeyondTheBoundAreDropped()
    {
        var holdings = new PartialHoldings(maxPieces: 2);
        Assert.True(holdings.Add(Blocks(piece: 0, 10, 1)));
        Assert.True(holdings.Add(Blocks(piece: 0, 10, 7)));
        Assert.True(holdings.Add(Blocks(piece: 1, 10, 0)));
        Assert.False(holdings.Add(Blocks(piece: 2, 10, 0)));
        Assert.False(holdings.Add(Blocks(piece: 0, 20, 0)));

        Assert.True(holdings.Has(0, 1) && holdings.Has(0, 7) && !holdings.Has(0, 0));
        Assert.False(holdings.HasAny(2));
        Assert.False(holdings.Has(0, 10_000) || holdings.Has(0, -1) || holdings.Has(9, 0));
        holdings.Remove(0);
        Assert.True(holdings.Add(Blocks(piece: 2, 10, 0)));
        Assert.Equal(2, holdings.Count);
    }

    [Fact]
    public void AnInvalidAnnouncementClosesTheConnectionAndAValidOneReachesTheSwarm()
    {
        var received = new List<BlockHaveMessage>();
        var exchange = new BlockRelayExchange(p => p < 3 ? 10 : 0, (_, m) => received.Add(m));
        var peer = new FakeExtensionPeer();

        Assert.NotNull(exchange.OnMessage(peer, Extended(Encode(Blocks(piece: 3, 10, 0)))));
        Assert.NotNull(exchange.OnMessage(peer, Extended(Encode(Blocks(piece: 0, 17, 0)))));
        Assert.NotNull(exchange.OnMessage(peer, Extended("not bencode"u8.ToArray())));
        Assert.Empty(received);

        Assert.Null(exchange.OnMessage(peer, Extended(Encode(Blocks(piece: 2, 10, 9)))));
        Assert.True(Assert.Single(received).Has(9));
    }

    [Fact]
    public void BlocksAreSentOnlyToAPeerThatNamedTheExtension()
    {
        var other = new FakeExtensionPeer { RemoteExtensions = new ExtensionHandshake { UtMetadata = 3 } };
        var ours = new FakeExtensionPeer { RemoteExtensions = new ExtensionHandshake { Blocks = 12 } };

        Assert.False(BlockRelayExchange.Send(other, Blocks(0, 10, 1)));
        Assert.False(BlockRelayExchange.Send(new FakeExtensionPeer(), Blocks(0, 10, 1)));
        Assert.True(BlockRelayExchange.Send(ours, Blocks(0, 10, 1)));

        Assert.Empty(other.Extended);
        byte[] payload = Assert.Single(ours.Extended);
        Assert.Equal(12, Assert.Single(ours.ExtendedIds));
        Assert.True(BlockHaveMessage.TryParse(payload, _ => 10)!.Has(1));
    }

    private static BlockHaveMessage Blocks(int piece, int blockCount, params int[] held)
    {
        var message = new BlockHaveMessage(piece, blockCount);
        foreach (int block in held)
        {
            message.Set(block);
        }

        return message;
    }

    private static byte[] Encode(BlockHaveMessage message)
    {
        var output = new ArrayBufferWriter<byte>();
        message.WriteTo(output);
        return output.WrittenSpan.ToArray();
    }

    private static PeerMessage Extended(byte[] payload) =>
        new() { Id = MessageId.Extended, ExtensionId = BlockRelayExchange.WantedId, Payload = new ReadOnlySequence<byte>(payload) };
}

using System.Security.Cryptography;
using BlockTorrent.Swarm;
using BlockTorrent.Testing;
using BlockTorrent.Wire;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Swarm;

/// <summary>The picker with block-relaying peers: blocks of a piece are asked of a peer only once it announced them.</summary>
public sealed class BlockRelayPickerTests
{
    private const int Blocks = 4;
    private const int PieceLength = Blocks * PiecePicker.BlockSize;

    [Fact]
    public void APeerThatAnnouncedSomeBlocksOfAPieceIsAskedOnlyForThoseAndAWholeHolderForTheRest()
    {
        PiecePicker picker = AllWanted(4);
        PickerPeer relayer = Peer(picker);
        PickerPeer seed = Peer(picker);
        seed.Has.SetAll();
        picker.AddPeer(seed);
        Assert.False(picker.IsInteresting(relayer));

        Assert.True(picker.PeerHasBlocks(relayer, Announce(2, 0, 2)));

        Assert.True(picker.IsInteresting(relayer));
        Assert.Equal(2, picker.StartPiece(relayer));
        Assert.True(picker.MarkReady(2));
        Assert.Equal([0, 2], Pick(picker, relayer).Select(b => b.Offset / PiecePicker.BlockSize));
        Assert.Empty(Pick(picker, relayer));
        Assert.Equal([1, 3], Pick(picker, seed).Where(b => b.Piece == 2).Select(b => b.Offset / PiecePicker.BlockSize));
    }

    [Fact]
    public void AHaveReplacesAnnouncedBlocksAndTheWholePieceMayThenBeAskedFor()
    {
        PiecePicker picker = AllWanted(2);
        PickerPeer relayer = Peer(picker);
        Assert.True(picker.PeerHasBlocks(relayer, Announce(1, 3)));
        Assert.Equal(1, picker.StartPiece(relayer));
        Assert.True(picker.MarkReady(1));
        Assert.Equal([3], Pick(picker, relayer).Select(b => b.Offset / PiecePicker.BlockSize));

        picker.PeerHave(relayer, 1);

        Assert.False(relayer.Partial!.HasAny(1));
        Assert.Equal([0, 1, 2], Pick(picker, relayer).Select(b => b.Offset / PiecePicker.BlockSize));
    }

    [Fact]
    public void AnnouncementsOfPiecesHeldWholeAreDroppedAndAChokingPeerIsAskedForNothing()
    {
        PiecePicker picker = AllWanted(3);
        PickerPeer relayer = Peer(picker);
        picker.PeerHave(relayer, 0);
        Assert.True(picker.MarkHave(1));

        Assert.False(picker.PeerHasBlocks(relayer, Announce(0, 1)));
        Assert.False(picker.PeerHasBlocks(relayer, Announce(1, 1)));
        Assert.True(picker.PeerHasBlocks(relayer, Announce(2, 1)));
        relayer.IsChokingUs = true;

        Assert.False(relayer.CanRequestBlocks(2));
        Assert.Equal(-1, picker.StartPiece(relayer));
    }

    [Fact]
    public void APeerAtItsBoundOfPiecesMakesRoomByForgettingPiecesWeNoLongerWant()
    {
        PiecePicker picker = AllWanted(PartialHoldings.DefaultMaxPieces + 1);
        PickerPeer relayer = Peer(picker);
        for (int piece = 0; piece < PartialHoldings.DefaultMaxPieces; piece++)
        {
            Assert.True(picker.PeerHasBlocks(relayer, Announce(piece, 0)));
        }

        Assert.False(picker.PeerHasBlocks(relayer, Announce(PartialHoldings.DefaultMaxPieces, 0)));
        Assert.True(picker.MarkHave(7));

        Assert.True(picker.PeerHasBlocks(relayer, Announce(PartialHoldings.DefaultMaxPieces, 0)));
        Assert.False(relayer.Partial!.HasAny(7));
    }

    [Fact]
    public void ABlockMatchingItsLeafIsVerifiedAndOneThatDoesNotIsWantedAgainWithItsSenderNamed()
    {
        (PiecePicker picker, PickerPeer liar, byte[] piece, byte[] buffer) = StartFromASeed(pieces: 1);
        PickerPeer honest = Peer(picker);
        honest.Has.SetAll();
        Assert.True(picker.SetLeaves(0, LeafHashes.Compute(piece, Blocks), buffer));
        List<BlockRequest> asked = Pick(picker, liar);
        Assert.Equal(Blocks, asked.Count);

        Assert.False(Deliver(picker, liar, asked[0], piece, buffer, out bool goodMismatch));
        byte[] junk = (byte[])piece.Clone();
        junk[PiecePicker.BlockSize + 5] ^= 1;
        Assert.False(Deliver(picker, liar, asked[1], junk, buffer, out bool badMismatch));

        PieceProgress progress = picker.Progress(0)!;
        Assert.False(goodMismatch);
        Assert.True(progress.IsVerified(0));
        Assert.True(badMismatch);
        Assert.False(progress.IsReceived(1));
        Assert.Equal(1, progress.VerifiedCount);
        Assert.Equal(1, progress.UnrequestedCount);
        Assert.Equal(1, Pick(picker, honest)[0].Offset / PiecePicker.BlockSize);
    }

    [Fact]
    public void LeavesArrivingAfterBlocksVerifyThoseThatMatchAndLeaveTheOthersUnverified()
    {
        (PiecePicker picker, PickerPeer peer, byte[] piece, byte[] buffer) = StartFromASeed(pieces: 1);
        List<BlockRequest> asked = Pick(picker, peer);
        byte[] junk = (byte[])piece.Clone();
        junk[(2 * PiecePicker.BlockSize) + 9] ^= 1;
        Assert.False(Deliver(picker, peer, asked[0], piece, buffer, out _));
        Assert.False(Deliver(picker, peer, asked[2], junk, buffer, out bool unchecked2));

        Assert.True(picker.SetLeaves(0, LeafHashes.Compute(piece, Blocks), buffer));

        PieceProgress progress = picker.Progress(0)!;
        Assert.False(unchecked2);
        Assert.True(progress.IsVerified(0));
        Assert.True(progress.IsReceived(2));
        Assert.False(progress.IsVerified(2));
        Assert.False(picker.SetLeaves(0, LeafHashes.Compute(piece, Blocks), buffer));
    }

    [Fact]
    public void AProgressReusedForTheNextPieceForgetsItsLeavesAndVerifiedBlocks()
    {
        (PiecePicker picker, PickerPeer peer, byte[] piece, byte[] buffer) = StartFromASeed(pieces: 2);
        int first = peer.LastPiece;
        Assert.True(picker.SetLeaves(first, LeafHashes.Compute(piece, Blocks), buffer));
        foreach (BlockRequest block in Pick(picker, peer))
        {
            Deliver(picker, peer, block with { Piece = first }, piece, buffer, out _);
        }

        picker.PieceFinished(first, verified: true);

        int second = picker.StartPiece(peer);
        PieceProgress progress = picker.Progress(second)!;
        Assert.NotEqual(first, second);
        Assert.Null(progress.Leaves);
        Assert.Equal(0, progress.VerifiedCount);
        Assert.False(picker.SetLeaves(second, LeafHashes.Compute(piece.AsSpan(0, PiecePicker.BlockSize), Blocks), buffer));
    }

    [Fact]
    public void ThePickerNeverAsksAPeerForABlockItNeitherHoldsWholeNorAnnounced() =>
        Prop.ForAll(PropertyCheck.ScenarioSeeds, seed => NeverAsksForUnheldBlocks(seed)).CheckSeeded(maxTest: 200);

    private static void NeverAsksForUnheldBlocks(int seed)
    {
        var s = new PickerScenario(seed);
        foreach (PickerPeer peer in s.Peers)
        {
            for (int i = 0; i < s.PieceCount; i++)
            {
                if (!peer.Has[i] && s.Random.Next(2) == 0)
                {
                    int blocks = (s.PieceSize(i) + PiecePicker.BlockSize - 1) / PiecePicker.BlockSize;
                    var announced = new BlockHaveMessage(i, blocks);
                    announced.Set(s.Random.Next(blocks));
                    s.Picker.PeerHasBlocks(peer, announced);
                }
            }
        }

        for (int round = 0; round < 20; round++)
        {
            foreach (PickerPeer peer in s.Peers)
            {
                foreach (BlockRequest block in s.Fill(peer, s.Random.Next(1, 40)))
                {
                    Assert.True(s.Wanted[block.Piece], $"piece {block.Piece} is not wanted");
                    Assert.True(peer.Holds(block.Piece, block.Offset / PiecePicker.BlockSize), $"the peer holds neither piece {block.Piece} nor its block at {block.Offset}");
                    Assert.True(!peer.IsChokingUs || peer.AllowedFast.Contains(block.Piece), $"piece {block.Piece} is neither unchoked nor allowed fast");
                }

                if (s.Random.Next(3) == 0)
                {
                    s.Picker.ReleaseRequests(peer);
                }
            }
        }
    }

    private static PiecePicker AllWanted(int pieces)
    {
        var wanted = new Bitfield(pieces);
        wanted.SetAll();
        return new PiecePicker(pieces, _ => PieceLength, wanted, PieceLength);
    }

    private static PickerPeer Peer(PiecePicker picker)
    {
        var peer = new PickerPeer(picker.PieceCount) { IsChokingUs = false };
        picker.AddPeer(peer);
        return peer;
    }

    private static BlockHaveMessage Announce(int piece, params int[] blocks)
    {
        var message = new BlockHaveMessage(piece, Blocks);
        foreach (int block in blocks)
        {
            message.Set(block);
        }

        return message;
    }

    // A picker of all-wanted pieces with one started, ready piece from a peer holding everything, and that piece's bytes.
    private static (PiecePicker Picker, PickerPeer Peer, byte[] Piece, byte[] Buffer) StartFromASeed(int pieces)
    {
        PiecePicker picker = AllWanted(pieces);
        PickerPeer peer = Peer(picker);
        peer.Has.SetAll();
        int started = picker.StartPiece(peer);
        Assert.True(picker.MarkReady(started));
        return (picker, peer, RandomNumberGenerator.GetBytes(PieceLength), new byte[PieceLength]);
    }

    // Copies a block's bytes from the piece into the buffer, as a session does, and ends its receive with the check.
    private static bool Deliver(PiecePicker picker, PickerPeer peer, BlockRequest block, byte[] piece, byte[] buffer, out bool mismatch)
    {
        Assert.True(picker.TryBeginReceive(peer, block));
        piece.AsSpan(block.Offset, block.Length).CopyTo(buffer.AsSpan(block.Offset));
        return picker.EndReceive(peer, block, buffer.AsSpan(block.Offset, block.Length), null, out mismatch);
    }

    private static List<BlockRequest> Pick(PiecePicker picker, PickerPeer peer)
    {
        var blocks = new BlockRequest[16];
        return [.. blocks.AsSpan(0, picker.PickBlocks(peer, blocks)).ToArray()];
    }
}

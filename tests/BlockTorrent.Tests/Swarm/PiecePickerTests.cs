using BlockTorrent.Swarm;
using BlockTorrent.Testing;
using BlockTorrent.Wire;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Swarm;

public sealed class PiecePickerTests
{
    [Fact]
    public void ThePickerNeverPicksAPieceThatIsUnwantedOrThePeerCannotGiveUs() => Prop.ForAll(PropertyCheck.ScenarioSeeds, seed => ThePickerNeverPicksAPieceThatIsUnwantedOrThePeerCannotGiveUsFor(seed)).CheckSeeded(maxTest: 200);

    private void ThePickerNeverPicksAPieceThatIsUnwantedOrThePeerCannotGiveUsFor(int seed)
    {
        var s = new PickerScenario(seed);
        for (int round = 0; round < 20; round++)
        {
            foreach (PickerPeer peer in s.Peers)
            {
                foreach (BlockRequest block in s.Fill(peer, s.Random.Next(1, 40)))
                {
                    Assert.True(s.Wanted[block.Piece], $"piece {block.Piece} is not wanted");
                    Assert.True(peer.Has[block.Piece], $"the peer lacks piece {block.Piece}");
                    Assert.True(!peer.IsChokingUs || peer.AllowedFast.Contains(block.Piece), $"piece {block.Piece} is neither unchoked nor allowed fast");
                    Assert.True(block.Offset % PiecePicker.BlockSize == 0 && block.Length > 0 && block.Offset + block.Length <= s.PieceSize(block.Piece));
                }
            }

            DeliverSome(s);
        }
    }

    [Fact]
    public void EveryWantedPieceSomePeerHasIsEventuallyCompleted() => Prop.ForAll(PropertyCheck.ScenarioSeeds, seed => EveryWantedPieceSomePeerHasIsEventuallyCompletedFor(seed)).CheckSeeded(maxTest: 200);

    private void EveryWantedPieceSomePeerHasIsEventuallyCompletedFor(int seed)
    {
        var s = new PickerScenario(seed, allUnchoked: true);
        var available = new Bitfield(s.PieceCount);
        s.Peers.ForEach(p => available.Or(p.Has));
        var expected = new Bitfield(s.Wanted);
        expected.And(available);
        var completed = new Bitfield(s.PieceCount);
        for (int round = 0; round < 10_000 && completed.Count < expected.Count; round++)
        {
            foreach (PickerPeer peer in s.Peers)
            {
                foreach (BlockRequest block in s.Fill(peer, 8))
                {
                    if (s.Picker.TryBeginReceive(peer, block) && s.Picker.EndReceive(peer, block, true, null))
                    {
                        Assert.True(completed.Set(block.Piece), $"piece {block.Piece} completed twice");
                        s.Picker.PieceFinished(block.Piece, verified: true);
                    }
                }
            }
        }

        Assert.Equal(expected.SetIndices(), completed.SetIndices());
    }

    [Fact]
    public void NoBlockIsEverRequestedFromMoreThanTwoPeersOrTwiceFromOne() => Prop.ForAll(PropertyCheck.ScenarioSeeds, seed => NoBlockIsEverRequestedFromMoreThanTwoPeersOrTwiceFromOneFor(seed)).CheckSeeded(maxTest: 200);

    private void NoBlockIsEverRequestedFromMoreThanTwoPeersOrTwiceFromOneFor(int seed)
    {
        var s = new PickerScenario(seed, allUnchoked: true);
        var requesters = new Dictionary<BlockRequest, List<PickerPeer>>();
        for (int round = 0; round < 5; round++)
        {
            foreach (PickerPeer peer in s.Peers)
            {
                foreach (BlockRequest block in s.Fill(peer, 1000))
                {
                    if (!requesters.TryGetValue(block, out var list))
                    {
                        requesters[block] = list = [];
                    }

                    Assert.DoesNotContain(peer, list);
                    list.Add(peer);
                    Assert.True(list.Count <= PiecePicker.MaxRequestsPerBlock);
                }
            }
        }
    }

    [Fact]
    public void EndgameDuplicatesOnlyStartWhenNothingUnrequestedIsLeft()
    {
        var picker = AllWanted(2, PiecePicker.BlockSize * 4, PiecePicker.BlockSize * 4);
        var a = Seed(picker, 2);
        var b = Seed(picker, 2);
        var buffer = new BlockRequest[100];
        int first = picker.StartPiece(a);
        picker.MarkReady(first);
        Assert.Equal(4, picker.PickBlocks(a, buffer));

        // b still has an unstarted piece: it gets no duplicates yet.
        Assert.Equal(0, picker.PickBlocks(b, buffer));
        int second = picker.StartPiece(b);
        picker.MarkReady(second);

        // Once its own piece is requested nothing unrequested is left: b duplicates a's blocks, once each.
        Assert.Equal(8, picker.PickBlocks(b, buffer));
        Assert.All(buffer[..4], block => Assert.Equal(second, block.Piece));
        Assert.All(buffer[4..8], block => Assert.Equal(first, block.Piece));
        Assert.Equal(0, picker.PickBlocks(b, buffer));
    }

    [Fact]
    public void APeerWithNothingNewGetsNoDuplicatesWhileAnotherPeerStillHasUnstartedPieces()
    {
        // The seed has only piece 0 (a super-seed's offer), whose blocks are all requested from another target; a
        // third peer still holds pieces nobody started, so duplicates from the seed would only waste its upload.
        var picker = AllWanted(3, PiecePicker.BlockSize * 4, PiecePicker.BlockSize * 4);
        var target = Holding(picker, 3, 0);
        var seed = Holding(picker, 3, 0);
        Holding(picker, 3, 1, 2);
        var buffer = new BlockRequest[100];
        picker.MarkReady(picker.StartPiece(target));
        Assert.Equal(4, picker.PickBlocks(target, buffer));

        Assert.Equal(0, picker.PickBlocks(seed, buffer));
    }

    [Fact]
    public void PiecesNoPeerHasYetKeepTheDownloadOutOfTheEndgame()
    {
        // Behind a super-seed, pieces 1 and 2 are on no peer yet (not offered): the seed must not be asked again for
        // piece 0, which another target is already sending.
        var picker = AllWanted(3, PiecePicker.BlockSize * 4, PiecePicker.BlockSize * 4);
        var target = Holding(picker, 3, 0);
        var seed = Holding(picker, 3, 0);
        var buffer = new BlockRequest[100];
        picker.MarkReady(picker.StartPiece(target));
        Assert.Equal(4, picker.PickBlocks(target, buffer));

        Assert.Equal(0, picker.PickBlocks(seed, buffer));
    }

    [Fact]
    public void ABlockThatArrivedIsCancelledAtTheOtherPeer()
    {
        var picker = AllWanted(1, PiecePicker.BlockSize, PiecePicker.BlockSize);
        var a = Seed(picker, 1);
        var b = Seed(picker, 1);
        picker.MarkReady(picker.StartPiece(a));
        var buffer = new BlockRequest[4];
        Assert.Equal(1, picker.PickBlocks(a, buffer));
        Assert.Equal(1, picker.PickBlocks(b, buffer));
        var cancels = new List<PieceCancel>();
        Assert.True(picker.TryBeginReceive(a, buffer[0]));
        Assert.True(picker.EndReceive(a, buffer[0], true, cancels));
        Assert.Equal([new PieceCancel(b, buffer[0])], cancels);
        Assert.Equal(0, a.Outstanding);
        Assert.Equal(0, b.Outstanding);
    }

    [Fact]
    public void ABlockArrivingFromTwoPeersAtOnceIsCopiedOnlyOnce()
    {
        var picker = AllWanted(1, PiecePicker.BlockSize, PiecePicker.BlockSize);
        var a = Seed(picker, 1);
        var b = Seed(picker, 1);
        picker.MarkReady(picker.StartPiece(a));
        var block = new BlockRequest(0, 0, PiecePicker.BlockSize);
        var buffer = new BlockRequest[1];
        Assert.Equal(1, picker.PickBlocks(a, buffer));
        Assert.Equal(1, picker.PickBlocks(b, buffer));
        Assert.True(picker.TryBeginReceive(a, block));
        Assert.False(picker.TryBeginReceive(b, block));
    }

    [Fact]
    public void ABlockIsTakenOnlyFromAPeerItWasRequestedFrom()
    {
        var picker = AllWanted(1, PiecePicker.BlockSize, PiecePicker.BlockSize);
        var asked = Seed(picker, 1);
        var other = Seed(picker, 1);
        picker.MarkReady(picker.StartPiece(asked));
        var block = new BlockRequest(0, 0, PiecePicker.BlockSize);
        Assert.False(picker.TryBeginReceive(asked, block));
        Assert.Equal(1, picker.PickBlocks(asked, new BlockRequest[1]));

        Assert.False(picker.TryBeginReceive(other, block));
        Assert.True(picker.TryBeginReceive(asked, block));
    }

    [Fact]
    public void ABlockWithTheWrongLengthOrOffsetIsRefused()
    {
        var picker = AllWanted(1, 40_000, 65536);
        var a = Seed(picker, 1);
        picker.MarkReady(picker.StartPiece(a));
        Assert.Equal(3, picker.PickBlocks(a, new BlockRequest[4]));
        Assert.False(picker.TryBeginReceive(a, new BlockRequest(0, 0, 100)));
        Assert.False(picker.TryBeginReceive(a, new BlockRequest(0, 100, PiecePicker.BlockSize)));
        Assert.False(picker.TryBeginReceive(a, new BlockRequest(0, 32768, PiecePicker.BlockSize)));
        Assert.False(picker.TryBeginReceive(a, new BlockRequest(1, 0, PiecePicker.BlockSize)));
        Assert.True(picker.TryBeginReceive(a, new BlockRequest(0, 32768, 40_000 - 32768)));
    }

    [Fact]
    public void TheRequestsOfAStalledPeerGoToAnotherPeerOnceReleased()
    {
        var picker = AllWanted(1, PiecePicker.BlockSize * 8, PiecePicker.BlockSize * 8);
        var stalled = Seed(picker, 1);
        var other = Seed(picker, 1);
        var buffer = new BlockRequest[8];
        picker.MarkReady(picker.StartPiece(stalled));
        Assert.Equal(8, picker.PickBlocks(stalled, buffer));
        Assert.Equal(8, picker.ReleaseRequests(stalled));
        Assert.Equal(8, picker.PickBlocks(other, buffer));
        Assert.Equal(8, other.Outstanding);
    }

    [Fact]
    public void AChokingPeerIsAskedOnlyForAllowedFastPieces()
    {
        var picker = AllWanted(10, PiecePicker.BlockSize, PiecePicker.BlockSize);
        var peer = Seed(picker, 10);
        peer.IsChokingUs = true;
        Assert.Equal(-1, picker.StartPiece(peer));
        peer.AllowedFast.Add(7);
        Assert.Equal(7, picker.StartPiece(peer));
        Assert.Equal(-1, picker.StartPiece(peer));
    }

    [Fact]
    public void APeerKeepsTakingPiecesFromTheExtentItWorksIn()
    {
        const int pieces = 64;
        var picker = AllWanted(pieces, PiecePicker.BlockSize, PiecePicker.BlockSize, extentBytes: PiecePicker.BlockSize * 8);
        var peer = Seed(picker, pieces);
        int first = picker.StartPiece(peer);
        int extent = first / 8;
        for (int i = 1; i < 8; i++)
        {
            Assert.Equal(extent, picker.StartPiece(peer) / 8);
        }
    }

    [Fact]
    public void TheRarestPieceIsStartedFirst()
    {
        var picker = AllWanted(10, PiecePicker.BlockSize, PiecePicker.BlockSize);
        var everything = Seed(picker, 10);
        var some = new PickerPeer(10);
        for (int i = 0; i < 10; i++)
        {
            some.Has[i] = i != 6;
        }

        picker.AddPeer(some);
        Assert.Equal(6, picker.StartPiece(everything));
    }

    [Fact]
    public void AFailedPieceSentByTwoPeersIsRetriedFromOnePeerOnly()
    {
        var picker = AllWanted(1, PiecePicker.BlockSize * 2, PiecePicker.BlockSize * 2);
        var a = Seed(picker, 1);
        var b = Seed(picker, 1);
        picker.MarkReady(picker.StartPiece(a));
        var one = new BlockRequest(0, 0, PiecePicker.BlockSize);
        var two = new BlockRequest(0, PiecePicker.BlockSize, PiecePicker.BlockSize);
        var picked = new BlockRequest[1];
        Assert.Equal(1, picker.PickBlocks(a, picked));
        Assert.Equal(one, picked[0]);
        Assert.Equal(1, picker.PickBlocks(b, picked));
        Assert.Equal(two, picked[0]);
        Assert.True(picker.TryBeginReceive(a, one));
        Assert.False(picker.EndReceive(a, one, true, null));
        Assert.True(picker.TryBeginReceive(b, two));
        Assert.True(picker.EndReceive(b, two, true, null));
        Assert.Equal(2, picker.Contributors(0).Count);
        picker.PieceFinished(0, verified: false);

        Assert.True(picker.Wanted[0]);
        Assert.Equal(0, picker.StartPiece(b));
        picker.MarkReady(0);
        var buffer = new BlockRequest[4];
        Assert.Equal(0, picker.PickBlocks(a, buffer));
        Assert.Equal(2, picker.PickBlocks(b, buffer));
    }

    [Fact]
    public void APieceSatisfiedLocallyIsNoLongerPicked()
    {
        var picker = AllWanted(2, PiecePicker.BlockSize, PiecePicker.BlockSize);
        var peer = Seed(picker, 2);
        Assert.True(picker.MarkHave(0));
        Assert.Equal(1, picker.StartPiece(peer));
        Assert.Equal(-1, picker.StartPiece(peer));
    }

    [Fact]
    public void DownloadingPieceAfterPieceReusesTheProgressOfThoseThatLeftThePicker()
    {
        // A progress with its arrays and contributor list is a few hundred bytes; reused, a piece allocates nothing.
        const int Pieces = 512;
        const int PieceLength = 4 * PiecePicker.BlockSize;
        var picker = AllWanted(Pieces, PieceLength, PieceLength);
        PickerPeer peer = Seed(picker, Pieces);
        var blocks = new BlockRequest[8];
        var cancels = new List<PieceCancel>();
        DownloadOnePiece(picker, peer, blocks, cancels);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 1; i < Pieces; i++)
        {
            DownloadOnePiece(picker, peer, blocks, cancels);
        }

        long perPiece = (GC.GetAllocatedBytesForCurrentThread() - before) / (Pieces - 1);
        Assert.True(picker.IsComplete);
        Assert.InRange(perPiece, 0, 32);
    }

    private static void DownloadOnePiece(PiecePicker picker, PickerPeer peer, BlockRequest[] blocks, List<PieceCancel> cancels)
    {
        int piece = picker.StartPiece(peer);
        Assert.True(picker.MarkReady(piece));
        int n = picker.PickBlocks(peer, blocks);
        for (int i = 0; i < n; i++)
        {
            Assert.True(picker.TryBeginReceive(peer, blocks[i]));
            picker.EndReceive(peer, blocks[i], success: true, cancels);
        }

        picker.PieceFinished(piece, verified: true);
    }

    private static PiecePicker AllWanted(int pieces, int pieceSize, int pieceLength, int extentBytes = 4 * 1024 * 1024)
    {
        var wanted = new Bitfield(pieces);
        wanted.SetAll();
        return new PiecePicker(pieces, _ => pieceSize, wanted, pieceLength, extentBytes);
    }

    private static PickerPeer Seed(PiecePicker picker, int pieces)
    {
        var peer = new PickerPeer(pieces) { IsChokingUs = false };
        peer.Has.SetAll();
        picker.AddPeer(peer);
        return peer;
    }

    private static PickerPeer Holding(PiecePicker picker, int pieces, params int[] held)
    {
        var peer = new PickerPeer(pieces) { IsChokingUs = false };
        foreach (int piece in held)
        {
            peer.Has.Set(piece);
        }

        picker.AddPeer(peer);
        return peer;
    }

    private static void DeliverSome(PickerScenario s)
    {
        foreach (PickerPeer peer in s.Peers)
        {
            if (s.Random.Next(3) == 0)
            {
                s.Picker.ReleaseRequests(peer);
            }
        }
    }
}

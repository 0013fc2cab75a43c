using BlockTorrent.Manifest;
using BlockTorrent.Swarm;
using BlockTorrent.Testing;
using BlockTorrent.Wire;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Swarm;

public sealed class BlockMapPickerTests
{
    private const int B = PiecePicker.BlockSize;

    [Fact]
    public void NoBlockTheMapLetsUsFillIsEverRequestedAndEveryWantedPieceStillCompletes() => Prop.ForAll(PropertyCheck.ScenarioSeeds, seed => NoBlockTheMapLetsUsFillIsEverRequestedAndEveryWantedPieceStillCompletesFor(seed)).CheckSeeded(maxTest: 200);

    private static bool NoBlockTheMapLetsUsFillIsEverRequestedAndEveryWantedPieceStillCompletesFor(int seed)
    {
        var s = new PickerScenario(seed, allUnchoked: true);
        int perPiece = s.PieceLength / B;
        long fullBlocks = ((long)(s.PieceCount - 1) * perPiece) + (s.LastPieceSize / B);
        BlockMap map = RandomMap(new Random(seed), fullBlocks);
        s.Picker.Blocks = map;
        var expected = new Bitfield(s.Wanted);
        var available = new Bitfield(s.PieceCount);
        s.Peers.ForEach(p => available.Or(p.Has));
        expected.And(available);
        var completed = new Bitfield(s.PieceCount);
        var started = new List<int>();

        void Finish(int piece)
        {
            Assert.True(completed.Set(piece), $"piece {piece} completed twice");
            s.Picker.PieceFinished(piece, verified: true);
        }

        void OnStart(int piece)
        {
            // Exactly the zero blocks, and the copies of a block of this piece or of a piece we have, are local.
            PieceProgress progress = s.Picker.Progress(piece)!;
            var local = new HashSet<int>();
            foreach ((int block, long source) in map.InPiece((long)piece * perPiece, progress.BlockCount))
            {
                if (source == BlockMap.Zero || source / perPiece == piece || s.Picker.Have[(int)(source / perPiece)])
                {
                    local.Add(block);
                }
            }

            Assert.Equal(local, Enumerable.Range(0, progress.BlockCount).Where(progress.IsLocal).ToHashSet());
            started.Add(piece);
        }

        for (int round = 0; round < 10_000 && completed.Count < expected.Count; round++)
        {
            foreach (PickerPeer peer in s.Peers)
            {
                foreach (BlockRequest block in s.Fill(peer, 8, OnStart))
                {
                    PieceProgress progress = s.Picker.Progress(block.Piece)!;
                    Assert.False(progress.IsLocal(block.Offset / B), $"block {block.Offset / B} of piece {block.Piece} is filled locally but was requested");
                    if (s.Picker.TryBeginReceive(peer, block) && s.Picker.EndReceive(peer, block, true, null))
                    {
                        Finish(block.Piece);
                    }
                }

                // A piece whose blocks are all local is complete as soon as it is ready, as the swarm commits it.
                foreach (int piece in started.Where(p => s.Picker.Progress(p) is { IsComplete: true }).ToList())
                {
                    Finish(piece);
                }
            }
        }

        Assert.Equal(expected.SetIndices(), completed.SetIndices());
        return true;
    }

    [Fact]
    public void AStartedPieceRequestsNeitherItsZeroBlocksNorCopiesOfBlocksWeHoldOrOfItsOwn()
    {
        // Three pieces of four blocks: block 1 is zero, 6 copies 4 (same piece), 7 copies 2 and 9 copies 3 (piece 0), 10 is zero.
        PiecePicker picker = Picker(Map((1, BlockMap.Zero), (6, 4), (7, 2), (9, 3), (10, BlockMap.Zero)), out PickerPeer peer);
        picker.MarkHave(0);

        Assert.Equal([4, 5], Requested(picker, peer, 1));
        Assert.Equal([8, 11], Requested(picker, peer, 2));
    }

    [Fact]
    public void ACopyOfABlockInAPieceWeDoNotHoldIsRequested()
    {
        PiecePicker picker = Picker(Map((1, BlockMap.Zero), (6, 4), (7, 2)), out PickerPeer peer);

        Assert.Equal([4, 5, 7], Requested(picker, peer, 1));
    }

    [Fact]
    public void APieceWhoseLocalBlocksFailedIsFetchedWholeFromThenOn()
    {
        PiecePicker picker = Picker(Map((4, BlockMap.Zero), (6, 5)), out PickerPeer peer);
        Assert.Equal([5, 7], Requested(picker, peer, 1));

        picker.LocalFillFailed(1);

        Assert.Equal(0, peer.Outstanding);
        Assert.Equal([4, 5, 6, 7], Requested(picker, peer, 1));
    }

    [Fact]
    public void APieceWhoseBlocksAreAllLocalIsCompleteOnceReadyAndAsksForNothing()
    {
        PiecePicker picker = Picker(Map((4, BlockMap.Zero), (5, 0), (6, 1), (7, BlockMap.Zero)), out PickerPeer peer);
        picker.MarkHave(0);

        Assert.Empty(Requested(picker, peer, 1));
        Assert.True(picker.Progress(1)!.IsComplete);
        Assert.Equal(4, picker.Progress(1)!.LocalCount);
    }

    private static PiecePicker Picker(BlockMap map, out PickerPeer peer)
    {
        var wanted = new Bitfield(3);
        wanted.SetAll();
        var picker = new PiecePicker(3, _ => 4 * B, wanted, 4 * B, random: new Random(1)) { Blocks = map };
        peer = new PickerPeer(3) { IsChokingUs = false };
        picker.AddPeer(peer);
        return picker;
    }

    // Starts one piece for the peer (the only one it has) and returns the image blocks requested of it.
    private static List<long> Requested(PiecePicker picker, PickerPeer peer, int piece)
    {
        peer.Has.ClearAll();
        peer.Has.Set(piece);
        Assert.Equal(piece, picker.StartPiece(peer));
        picker.MarkReady(piece);
        var blocks = new BlockRequest[16];
        int n = picker.PickBlocks(peer, blocks);
        return [.. blocks.Take(n).Select(b => ((long)b.Piece * 4) + (b.Offset / B))];
    }

    private static BlockMap Map(params (long Block, long Source)[] blocks)
    {
        var builder = new BlockMap.Builder();
        foreach ((long block, long source) in blocks)
        {
            builder.Add(block, source);
        }

        return builder.Build();
    }

    private static BlockMap RandomMap(Random random, long blocks)
    {
        var builder = new BlockMap.Builder();
        var data = new List<long>();
        for (long b = 0; b < blocks; b++)
        {
            int roll = random.Next(10);
            if (roll < 3)
            {
                builder.Add(b, BlockMap.Zero);
            }
            else if (roll < 5 && data.Count > 0)
            {
                builder.Add(b, data[random.Next(data.Count)]);
            }
            else
            {
                data.Add(b);
            }
        }

        return builder.Build();
    }
}

using BlockTorrent.Swarm;
using FsCheck.Fluent;
using BlockTorrent.Testing;

namespace BlockTorrent.Tests.Swarm;

public sealed class StreamWindowPickerTests
{
    [Fact]
    public void WithAWindowNoPieceOutsideItIsStartedAndTheDecodersNextPieceComesFirst()
    {
        var picker = AllWanted(64);
        picker.Window = new StreamWindow(8);
        PickerPeer seed = Seed(picker, 64);

        int first = picker.StartPiece(seed);
        var started = new List<int> { first };
        for (int piece = picker.StartPiece(seed); piece >= 0; piece = picker.StartPiece(seed))
        {
            started.Add(piece);
        }

        Assert.Equal(0, first);
        Assert.Equal(Enumerable.Range(0, 8), started.Order());
    }

    [Fact]
    public void WhenTheWindowMovesThePiecesItNowCoversCanBeStarted()
    {
        var picker = AllWanted(16);
        var window = new StreamWindow(2);
        picker.Window = window;
        PickerPeer seed = Seed(picker, 16);
        Assert.Equal(0, picker.StartPiece(seed));
        Assert.Equal(1, picker.StartPiece(seed));
        Assert.Equal(-1, picker.StartPiece(seed));

        picker.MarkHave(0);
        window.Advance(1, 3);

        Assert.Equal(2, picker.StartPiece(seed));
        Assert.Equal(-1, picker.StartPiece(seed));
    }

    [Fact]
    public void AWindowNeverMovesBackNorEmpties()
    {
        var window = new StreamWindow(4);
        window.Advance(2, 6);

        Assert.Throws<ArgumentOutOfRangeException>(() => window.Advance(1, 6));
        Assert.Throws<ArgumentOutOfRangeException>(() => window.Advance(2, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => window.Advance(6, 6));
    }

    [Fact]
    public void WhateverOrderPiecesFinishInEveryStartedPieceLiesInsideTheWindow() => Prop.ForAll(PropertyCheck.ScenarioSeeds, seed =>
    {
        var random = new Random(seed);
        int pieces = random.Next(4, 80);
        int size = random.Next(1, 9);
        var picker = AllWanted(pieces);
        var window = new StreamWindow(size);
        picker.Window = window;
        PickerPeer seedPeer = Seed(picker, pieces);
        var active = new List<int>();
        var done = new HashSet<int>();
        int next = 0;
        while (next < pieces)
        {
            for (int piece = picker.StartPiece(seedPeer); piece >= 0; piece = picker.StartPiece(seedPeer))
            {
                Assert.InRange(piece, window.Start, window.End - 1);
                active.Add(piece);
            }

            Assert.NotEmpty(active); // the next piece is always startable or started: no deadlock
            int finished = active[random.Next(active.Count)];
            active.Remove(finished);
            picker.PieceFinished(finished, verified: true);
            done.Add(finished);
            while (done.Contains(next))
            {
                next++;
            }

            window.Advance(next, next + size);
        }
    }).CheckSeeded(maxTest: 100);

    private static PiecePicker AllWanted(int pieces)
    {
        var wanted = new Bitfield(pieces);
        wanted.SetAll();
        return new PiecePicker(pieces, _ => 16 * 1024, wanted, 16 * 1024);
    }

    private static PickerPeer Seed(PiecePicker picker, int pieces)
    {
        var peer = new PickerPeer(pieces) { IsChokingUs = false };
        peer.Has.SetAll();
        picker.AddPeer(peer);
        return peer;
    }
}

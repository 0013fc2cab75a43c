using BenchmarkDotNet.Attributes;
using BlockTorrent.Swarm;
using BlockTorrent.Wire;

namespace BlockTorrent.Benchmarks.Swarm;

/// <summary>
/// What the picker allocates per piece on the download path: every piece of an image started, its blocks picked,
/// received and the piece finished, one after another from one peer, at two piece counts, so the difference in the
/// Allocated column divided by the difference in pieces is the allocation per piece (a reused progress: none).
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- --filter '*PiecePickerAllocation*' --job short</c>.</remarks>
[MemoryDiagnoser]
public class PiecePickerAllocationBenchmarks
{
    private const int PieceLength = 256 * 1024;

    private readonly BlockRequest[] _blocks = new BlockRequest[PieceLength / PiecePicker.BlockSize];
    private readonly List<PieceCancel> _cancels = [];

    [Params(256, 1024)]
    public int Pieces { get; set; }

    [Benchmark(Description = "PiecePicker, every piece from one peer, 256 KiB pieces")]
    public int DownloadEveryPiece()
    {
        var wanted = new Bitfield(Pieces);
        wanted.SetAll();
        var picker = new PiecePicker(Pieces, _ => PieceLength, wanted, PieceLength, random: new Random(1));
        var peer = new PickerPeer(Pieces) { IsChokingUs = false };
        peer.Has.SetAll();
        picker.AddPeer(peer);
        int finished = 0;
        for (int piece; (piece = picker.StartPiece(peer)) >= 0; finished++)
        {
            picker.MarkReady(piece);
            int n = picker.PickBlocks(peer, _blocks);
            for (int i = 0; i < n; i++)
            {
                picker.TryBeginReceive(peer, _blocks[i]);
                picker.EndReceive(peer, _blocks[i], success: true, _cancels);
            }

            picker.PieceFinished(piece, verified: true);
        }

        return finished;
    }
}

using BlockTorrent.Manifest;
using BlockTorrent.Swarm;
using BlockTorrent.Testing;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Swarm;

public sealed class PickerImageTests
{
    [Fact]
    public void ZeroPiecesAndLaterDuplicatesAreNeverPicked() => Prop.ForAll(PropertyCheck.ScenarioSeeds, seed => ZeroPiecesAndLaterDuplicatesAreNeverPickedFor(seed)).CheckSeeded(maxTest: 200);

    private void ZeroPiecesAndLaterDuplicatesAreNeverPickedFor(int seed)
    {
        var random = new Random(seed);
        var image = new PieceKinds(random);
        var picker = PiecePicker.ForManifest(image, random: random);
        var peer = new PickerPeer(image.PieceCount) { IsChokingUs = false };
        peer.Has.SetAll();
        picker.AddPeer(peer);
        var started = new List<int>();
        for (int piece = picker.StartPiece(peer); piece >= 0; piece = picker.StartPiece(peer))
        {
            started.Add(piece);
        }

        var expected = Enumerable.Range(0, image.PieceCount).Where(i => !image.IsZeroPiece(i) && image.GetCanonicalPiece(i) == i);
        Assert.Equal(expected, started.Order());
    }

    /// <summary>An image described only by which pieces are zero and which repeat an earlier one (no bytes needed by the picker).</summary>
    private sealed class PieceKinds : IImageManifest
    {
        private readonly int[] _canonical;
        private readonly bool[] _zero;

        public PieceKinds(Random random)
        {
            PieceCount = random.Next(1, 200);
            _canonical = new int[PieceCount];
            _zero = new bool[PieceCount];
            for (int i = 0; i < PieceCount; i++)
            {
                int kind = random.Next(4);
                _zero[i] = kind == 0;
                _canonical[i] = kind == 1 && i > 0 ? _canonical[random.Next(i)] : i;
                if (_zero[_canonical[i]])
                {
                    _zero[i] = true;
                }
            }
        }

        public string Name => "kinds";

        public long Length => (long)PieceCount * PieceLength;

        public int PieceLength => 65536;

        public int PieceCount { get; }

        public TorrentVersions Versions => TorrentVersions.V1;

        public InfoHash? InfoHashV1 => null;

        public InfoHash? InfoHashV2 => null;

        public int ZeroPieceCount => _zero.Count(z => z);

        public int DuplicatePieceCount => Enumerable.Range(0, PieceCount).Count(i => !_zero[i] && _canonical[i] != i);

        public long GetPieceOffset(int piece) => (long)piece * PieceLength;

        public int GetPieceSize(int piece) => PieceLength;

        public bool IsZeroPiece(int piece) => _zero[piece];

        public int GetCanonicalPiece(int piece) => _zero[piece] ? piece : _canonical[piece];

        public bool VerifyPiece(int piece, ReadOnlySpan<byte> data) => false;
    }
}

using BlockTorrent.Swarm;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Swarm;

/// <summary>A random swarm for picker properties: pieces of random count and size, a wanted set and peers with random pieces.</summary>
internal sealed class PickerScenario
{
    public PickerScenario(int seed, bool allUnchoked = false)
    {
        Random = new Random(seed);
        PieceCount = Random.Next(1, 120);
        PieceLength = PiecePicker.BlockSize * (1 << Random.Next(0, 3));
        LastPieceSize = Random.Next(1, PieceLength + 1);
        Wanted = new Bitfield(PieceCount);
        for (int i = 0; i < PieceCount; i++)
        {
            Wanted[i] = Random.Next(4) != 0;
        }

        Picker = new PiecePicker(PieceCount, PieceSize, Wanted, PieceLength, extentBytes: PieceLength * 4, random: new Random(seed));
        int peers = Random.Next(1, 6);
        for (int p = 0; p < peers; p++)
        {
            var peer = new PickerPeer(PieceCount) { IsChokingUs = !allUnchoked && Random.Next(4) == 0 };
            for (int i = 0; i < PieceCount; i++)
            {
                peer.Has[i] = Random.Next(3) != 0;
                if (Random.Next(8) == 0)
                {
                    peer.AllowedFast.Add(i);
                }
            }

            Peers.Add(peer);
            Picker.AddPeer(peer);
        }
    }

    public Random Random { get; }

    public int PieceCount { get; }

    public int PieceLength { get; }

    public int LastPieceSize { get; }

    public Bitfield Wanted { get; }

    public PiecePicker Picker { get; }

    public List<PickerPeer> Peers { get; } = [];

    public int PieceSize(int piece) => piece == PieceCount - 1 ? LastPieceSize : PieceLength;

    /// <summary>Fills a peer's pipeline as the swarm does: blocks of ready pieces, then a new piece, repeated.</summary>
    public List<BlockRequest> Fill(PickerPeer peer, int room, Action<int>? onStart = null)
    {
        var picked = new List<BlockRequest>();
        var buffer = new BlockRequest[room];
        while (picked.Count < room)
        {
            int n = Picker.PickBlocks(peer, buffer.AsSpan(0, room - picked.Count));
            picked.AddRange(buffer.AsSpan(0, n));
            if (picked.Count == room)
            {
                break;
            }

            int piece = Picker.StartPiece(peer);
            if (piece < 0)
            {
                break;
            }

            onStart?.Invoke(piece);
            Picker.MarkReady(piece);
        }

        return picked;
    }
}

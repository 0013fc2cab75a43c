using BlockTorrent.Manifest;

namespace BlockTorrent.Swarm;

/// <summary>
/// A torrent's duplicate pieces as chains over piece indices, from each first copy (its canonical piece) through every
/// later copy in order, so a written first copy finds the copies the writer filled in with it.
/// </summary>
internal sealed class DuplicateCopies
{
    private readonly int[] _next;

    /// <summary>Initializes a new instance from a manifest's duplicates.</summary>
    /// <param name="manifest">The torrent.</param>
    public DuplicateCopies(TorrentManifest manifest)
    {
        _next = new int[manifest.PieceCount];
        Array.Fill(_next, -1);
        var last = new Dictionary<int, int>();
        for (int i = 0; i < _next.Length; i++)
        {
            int canonical = manifest.GetCanonicalPiece(i);
            if (canonical != i)
            {
                _next[last.TryGetValue(canonical, out int tail) ? tail : canonical] = i;
                last[canonical] = i;
            }
        }
    }

    /// <summary>Gets the next copy of the same piece after <paramref name="piece"/>.</summary>
    /// <param name="piece">A piece.</param>
    /// <returns>The next later copy, or -1 when there is none.</returns>
    public int Next(int piece) => _next[piece];
}

using System.Globalization;
using BlockTorrent.Manifest;

namespace BlockTorrent.Writing;

/// <summary>
/// The pieces that share content: a group is a canonical piece (<see cref="IImageManifest.GetCanonicalPiece"/>)
/// and every piece whose canonical piece it is. Verified bytes for any member are written at every member's offset.
/// All-zero pieces are left out of groups: they are satisfied without data.
/// </summary>
internal sealed class PieceGroups
{
    // _next[p] is the next member of p's group in ascending order, or -1. Null when the image has no duplicates.
    private readonly int[]? _next;
    private readonly int[]? _canonical;

    /// <summary>Initializes a new instance from a manifest, checking that its duplicate map is consistent.</summary>
    /// <param name="manifest">The manifest.</param>
    /// <exception cref="ArgumentException">The manifest names an impossible canonical piece.</exception>
    public PieceGroups(IImageManifest manifest)
    {
        if (manifest.DuplicatePieceCount == 0)
        {
            return;
        }

        int count = manifest.PieceCount;
        _next = new int[count];
        _canonical = new int[count];
        int[] tail = new int[count];
        for (int p = 0; p < count; p++)
        {
            _next[p] = -1;
            tail[p] = p;
            int canonical = manifest.IsZeroPiece(p) ? p : manifest.GetCanonicalPiece(p);
            if (canonical < 0 || canonical > p || (canonical != p && manifest.GetPieceSize(canonical) != manifest.GetPieceSize(p)))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"The manifest '{manifest.Name}' names piece {canonical} as the canonical piece of piece {p}, which is impossible."), nameof(manifest));
            }

            _canonical[p] = canonical;
            if (canonical != p)
            {
                _next[tail[canonical]] = p;
                tail[canonical] = p;
            }
        }
    }

    /// <summary>Gets the first member of a piece's group (its canonical piece).</summary>
    /// <param name="piece">A valid piece index.</param>
    /// <returns>The canonical piece.</returns>
    public int First(int piece) => _canonical is null ? piece : _canonical[piece];

    /// <summary>Gets the member after <paramref name="member"/> in its group.</summary>
    /// <param name="member">A member.</param>
    /// <returns>The next member, or -1 after the last.</returns>
    public int Next(int member) => _next is null ? -1 : _next[member];
}

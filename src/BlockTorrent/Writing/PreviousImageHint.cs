using BlockTorrent.Manifest;

namespace BlockTorrent.Writing;

/// <summary>
/// Where a re-image expects each piece's bytes before it reads anything: the manifest the target was last deployed with
/// says which old piece hash each piece-aligned region held, so a piece of the new image whose hash an old region had is
/// expected there, and a piece whose hash no old region had is new content that only peers can supply.
/// </summary>
/// <remarks>
/// A hint, never proof: the target may have been written since, or the old manifest may be another image's. The check
/// still reads every region and verifies every piece against the new manifest; the hint only decides when a piece
/// found missing is wanted from peers (at once, or after the regions expected to hold it are read) and which regions
/// are read first. Hashes are compared only when both manifests hash pieces the same way: the same piece length, and
/// both with v2 piece hashes (else both with SHA-1).
/// </remarks>
internal sealed class PreviousImageHint
{
    // _expectedAt[r] is the canonical piece of the new image whose bytes old region r held, or -1.
    private readonly int[] _expectedAt;
    private readonly int[] _order;

    private PreviousImageHint(int[] expectedAt, int[] order)
    {
        _expectedAt = expectedAt;
        _order = order;
    }

    /// <summary>
    /// Gets the order in which the check reads the regions: first those where the hint expects a change (new content,
    /// content moved in or out), so the pieces only peers can supply are wanted within the first reads; then the rest,
    /// expected in place, in ascending order.
    /// </summary>
    public ReadOnlySpan<int> ScanOrder => _order;

    /// <summary>Builds the hint for deploying <paramref name="image"/> onto a target last deployed with <paramref name="previous"/>.</summary>
    /// <param name="image">The manifest being deployed.</param>
    /// <param name="previous">The manifest the target last held.</param>
    /// <param name="index">The check's index of <paramref name="image"/>'s pieces, used when its hash kind is one both manifests have; <see langword="null"/> to build one.</param>
    /// <returns>The hint, or <see langword="null"/> when the two manifests' piece hashes cannot be compared.</returns>
    public static PreviousImageHint? Create(TorrentManifest image, TorrentManifest previous, PieceContentIndex? index = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(previous);
        bool v2 = !image.GetPieceHashV2(0).IsEmpty && !previous.GetPieceHashV2(0).IsEmpty;
        bool v1 = !image.GetPieceHashV1(0).IsEmpty && !previous.GetPieceHashV1(0).IsEmpty;
        if (image.PieceLength != previous.PieceLength || (!v2 && !v1))
        {
            return null;
        }

        // Old regions are looked up among the new pieces by content. Only a region the new image covers with a piece of
        // the same size counts: the check reads region r as long as the new image's piece r, and finds a piece of that size.
        index ??= PieceContentIndex.For(image);
        if (index.UsesV2 != v2)
        {
            index = PieceContentIndex.ForV1(image);
        }

        int[] expectedAt = new int[image.PieceCount];
        Array.Fill(expectedAt, -1);
        for (int region = 0; region < Math.Min(image.PieceCount, previous.PieceCount); region++)
        {
            int size = previous.GetPieceSize(region);
            if (size == image.GetPieceSize(region) && !previous.IsZeroPiece(region))
            {
                expectedAt[region] = index.FindByHash(v2 ? previous.GetPieceHashV2(region) : previous.GetPieceHashV1(region), size);
            }
        }

        // A region is expected in place when its old content is its own piece's (zeros for a zero piece).
        bool InPlace(int region) => image.IsZeroPiece(region)
            ? region < previous.PieceCount && previous.IsZeroPiece(region)
            : expectedAt[region] == image.GetCanonicalPiece(region);

        int[] order = [.. Enumerable.Range(0, image.PieceCount).Where(r => !InPlace(r)), .. Enumerable.Range(0, image.PieceCount).Where(InPlace)];
        return new PreviousImageHint(expectedAt, order);
    }

    /// <summary>Gets the piece whose bytes a region is expected to hold.</summary>
    /// <param name="region">A region (a piece index of the new image).</param>
    /// <returns>The canonical, non-zero piece of the new image whose bytes the region held, or -1 (old content the new image no longer has, or zeros).</returns>
    public int ExpectedAt(int region) => _expectedAt[region];
}

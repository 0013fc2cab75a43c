using System.Buffers;

namespace BlockTorrent.Swarm;

/// <summary>
/// The BEP 52 leaf hashes of pieces we hold, computed from their bytes for <see cref="Extensions.HashServer"/>: a peer
/// asks for them to check a piece's 16 KiB blocks one by one (libtorrent does when a v2 piece fails), and the last few
/// are kept, as several peers tend to ask about the same piece.
/// </summary>
internal sealed partial class TorrentSwarm
{
    private const int LeafCacheSize = 4;

    // Most recently computed first; guarded by itself.
    private readonly List<(int Piece, LeafHashes Leaves)> _leafCache = new(LeafCacheSize);

    /// <summary>Gets the leaf hashes of a piece we hold (verified), or null when we do not hold it or it no longer reads back.</summary>
    /// <param name="piece">The piece (checked against the manifest by the caller).</param>
    /// <param name="cancellationToken">Stops the read.</param>
    /// <returns>The leaves, or <see langword="null"/>.</returns>
    internal async ValueTask<LeafHashes?> LeavesOfAsync(int piece, CancellationToken cancellationToken)
    {
        if (Manifest.LeavesPerPiece < 2 || !Has(piece))
        {
            return null;
        }

        lock (_leafCache)
        {
            foreach ((int cached, LeafHashes leaves) in _leafCache)
            {
                if (cached == piece)
                {
                    return leaves;
                }
            }
        }

        LeafHashes computed;
        if (Manifest.IsZeroPiece(piece))
        {
            int size = Manifest.GetPieceSize(piece);
            byte[] zeros = ArrayPool<byte>.Shared.Rent(size);
            zeros.AsSpan(0, size).Clear();
            computed = LeafHashes.Compute(zeros.AsSpan(0, size), Manifest.LeavesPerPiece);
            ArrayPool<byte>.Shared.Return(zeros);
        }
        else
        {
            using PieceReadCache.Lease lease = await ReadCache!.GetAsync(piece, cancellationToken).ConfigureAwait(false);
            if (!lease.IsValid)
            {
                return null;
            }

            computed = LeafHashes.Compute(lease.Span, Manifest.LeavesPerPiece);
        }

        lock (_leafCache)
        {
            if (_leafCache.Count == LeafCacheSize)
            {
                _leafCache.RemoveAt(LeafCacheSize - 1);
            }

            _leafCache.Insert(0, (piece, computed));
        }

        return computed;
    }
}

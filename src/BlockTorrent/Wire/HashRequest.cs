namespace BlockTorrent.Wire;

/// <summary>
/// The fields shared by BEP 52's hash request, hashes and hash reject messages: which hashes of which file's merkle
/// tree, and how many uncle layers of proof.
/// </summary>
/// <param name="PiecesRoot">The root of the file's merkle tree (its <c>pieces root</c>).</param>
/// <param name="BaseLayer">The tree layer of the requested hashes: 0 is the 16 KiB leaf layer.</param>
/// <param name="Index">The offset, in hashes, of the first requested hash in the base layer.</param>
/// <param name="Length">The number of base-layer hashes requested.</param>
/// <param name="ProofLayers">The number of ancestor layers whose uncle hashes are to be included.</param>
internal readonly record struct HashRequest(Sha256Hash PiecesRoot, int BaseLayer, int Index, int Length, int ProofLayers)
{
    /// <summary>The encoded size of the fields: 32 + 4 × 4 bytes.</summary>
    public const int EncodedSize = Sha256Hash.Size + 16;
}

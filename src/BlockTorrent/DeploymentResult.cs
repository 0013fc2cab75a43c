namespace BlockTorrent;

/// <summary>What a completed deployment did.</summary>
/// <remarks>
/// A deployment completes only when every piece of the image was, during this call, either read back from the
/// device and hashed equal to the manifest, or written by this call after its bytes were verified (fetched pieces,
/// their duplicates, all-zero pieces). A resume file only says which pieces to read back first.
/// </remarks>
public sealed record DeploymentResult
{
    /// <summary>Gets the number of pieces in the image.</summary>
    public int PieceCount { get; init; }

    /// <summary>Gets the number of pieces fetched from peers, verified against the manifest and written.</summary>
    public int PiecesDownloaded { get; init; }

    /// <summary>
    /// Gets the number of pieces read back from the device during this deployment and hashed equal to the manifest,
    /// so they were kept instead of fetched: those a resume file named, and with <see cref="DeployOptions.CheckExistingData"/> any other.
    /// </summary>
    public int PiecesAlreadyPresent { get; init; }

    /// <summary>
    /// Gets the number of pieces a resume file named as already on the device. Each was read back and hashed during
    /// this deployment; those that matched count in <see cref="PiecesAlreadyPresent"/>, the rest in <see cref="ResumedPiecesRejected"/>.
    /// </summary>
    public int ResumedPieces { get; init; }

    /// <summary>
    /// Gets the number of pieces a resume file named that, read back from the device, no longer matched the manifest
    /// (the device was written since, or the file was another device's); they were fetched or written again.
    /// </summary>
    public int ResumedPiecesRejected { get; init; }

    /// <summary>
    /// Gets the number of pieces written from bytes a re-image's check found at another piece-aligned offset of the
    /// target (content moved by a partition resize, say), and their duplicates: verified, copied locally, never fetched.
    /// </summary>
    public int PiecesCopiedLocally { get; init; }

    /// <summary>Gets the number of all-zero pieces, satisfied without transferring them.</summary>
    public int ZeroPieces { get; init; }

    /// <summary>Gets the number of pieces that repeat another piece, copied locally instead of transferred.</summary>
    public int DuplicatePieces { get; init; }

    /// <summary>Gets the piece payload received from peers, in bytes.</summary>
    public long BytesDownloaded { get; init; }

    /// <summary>
    /// Gets the bytes of the image satisfied locally: all-zero pieces and duplicate copies, and the zero and repeated
    /// 16 KiB blocks inside fetched pieces that the manifest's block map named.
    /// </summary>
    public long BytesSatisfiedLocally { get; init; }

    /// <summary>Gets the piece payload sent to peers, in bytes.</summary>
    public long BytesUploaded { get; init; }

    /// <summary>Gets the number of downloaded pieces that failed their hash check (and were fetched again).</summary>
    public int HashFailures { get; init; }

    /// <summary>Gets the number of peer connections made during the deployment.</summary>
    public int PeersSeen { get; init; }

    /// <summary>Gets how long the deployment took, up to completion (seeding afterwards excluded).</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>
    /// Gets the time from the start of the deployment (the target open) to the first piece payload received from a
    /// peer or web seed, or <see langword="null"/> when nothing was fetched.
    /// </summary>
    public TimeSpan? TimeToFirstByte { get; init; }

    /// <summary>
    /// Gets the time from the start of the deployment to the first piece fetched from the swarm, verified and written,
    /// or <see langword="null"/> when nothing was fetched.
    /// </summary>
    public TimeSpan? TimeToFirstPiece { get; init; }

    /// <summary>Gets the most bytes a compressed stream's scratch held at once; 0 for an image that needs none.</summary>
    public long ScratchPeakBytes { get; init; }
}

namespace BlockTorrent;

/// <summary>What a completed deployment did.</summary>
public sealed record DeploymentResult
{
    /// <summary>Gets the number of pieces in the image.</summary>
    public int PieceCount { get; init; }

    /// <summary>Gets the number of pieces downloaded from peers (and verified).</summary>
    public int PiecesDownloaded { get; init; }

    /// <summary>Gets the number of pieces that were already correct on the device (resume file or check of existing data).</summary>
    public int PiecesAlreadyPresent { get; init; }

    /// <summary>Gets the number of all-zero pieces, satisfied without transferring them.</summary>
    public int ZeroPieces { get; init; }

    /// <summary>Gets the number of pieces that repeat another piece, copied locally instead of transferred.</summary>
    public int DuplicatePieces { get; init; }

    /// <summary>Gets the piece payload received from peers, in bytes.</summary>
    public long BytesDownloaded { get; init; }

    /// <summary>Gets the bytes of the image satisfied locally: all-zero pieces and duplicate copies.</summary>
    public long BytesSatisfiedLocally { get; init; }

    /// <summary>Gets the piece payload sent to peers, in bytes.</summary>
    public long BytesUploaded { get; init; }

    /// <summary>Gets the number of downloaded pieces that failed their hash check (and were fetched again).</summary>
    public int HashFailures { get; init; }

    /// <summary>Gets the number of peer connections made during the deployment.</summary>
    public int PeersSeen { get; init; }

    /// <summary>Gets how long the deployment took, up to completion (seeding afterwards excluded).</summary>
    public TimeSpan Duration { get; init; }
}

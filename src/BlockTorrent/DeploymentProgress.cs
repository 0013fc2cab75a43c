namespace BlockTorrent;

/// <summary>How far a deployment has come, reported through <see cref="IProgress{T}"/> about four times a second.</summary>
public sealed record DeploymentProgress
{
    /// <summary>Gets the number of pieces in the image.</summary>
    public int PieceCount { get; init; }

    /// <summary>
    /// Gets the number of pieces verified on the device during this deployment: fetched, verified and written; written
    /// locally (duplicates, all-zero pieces); or read back from the device and hashed equal to the manifest.
    /// </summary>
    public int PiecesOnDevice { get; init; }

    /// <summary>Gets the piece payload received from peers so far, in bytes.</summary>
    public long BytesDownloaded { get; init; }

    /// <summary>Gets the piece payload sent to peers so far, in bytes.</summary>
    public long BytesUploaded { get; init; }

    /// <summary>Gets the number of connected peers.</summary>
    public int ConnectedPeers { get; init; }

    /// <summary>Gets the time since the deployment started.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>
    /// Gets the number of regions of the target a re-image's check has read and hashed so far (with
    /// <see cref="DeployOptions.CheckExistingData"/>, the check runs while pieces are fetched; see <see cref="IsChecking"/>).
    /// </summary>
    public int PiecesChecked { get; init; }

    /// <summary>Gets a value indicating whether a re-image's check of the target is still running.</summary>
    public bool IsChecking { get; init; }

    /// <summary>Gets the number of pieces written from bytes the check found elsewhere on the target, instead of fetched.</summary>
    public int PiecesCopiedLocally { get; init; }

    /// <summary>Gets the time from the start of the deployment to the first piece payload received from the swarm, or <see langword="null"/> before it.</summary>
    public TimeSpan? TimeToFirstByte { get; init; }

    /// <summary>Gets the time from the start of the deployment to the first piece fetched from the swarm and verified, or <see langword="null"/> before it.</summary>
    public TimeSpan? TimeToFirstPiece { get; init; }
}

namespace BlockTorrent.Writing;

/// <summary>
/// What a <see cref="BackgroundCheck"/> tells the swarm of the deployment it runs beside. Called under the check's lock,
/// so an implementation may take its own lock but must never call back into the check while holding it.
/// </summary>
internal interface ICheckTarget
{
    /// <summary>A piece was checked missing and no copy of its bytes is known on the target: fetch it from peers.</summary>
    /// <param name="piece">A canonical, non-zero piece; every region it is written to has been checked and reads nothing pending.</param>
    void Want(int piece);

    /// <summary>Takes a wanted piece back, because its bytes were found on the target, unless its download has started.</summary>
    /// <param name="piece">A piece passed to <see cref="Want"/>.</param>
    /// <returns><see langword="true"/> when the piece is no longer wanted and will be copied locally.</returns>
    bool TryWithdraw(int piece);

    /// <summary>A piece is on the device, verified: found in place, copied from elsewhere on the target, or zeroed.</summary>
    /// <param name="piece">The piece.</param>
    /// <param name="found">Whether it was found in place (else written locally).</param>
    void OnDevice(int piece, bool found);

    /// <summary>Gets the piece payload received from peers so far, in bytes: how the check measures the link.</summary>
    long BytesDownloaded { get; }

    /// <summary>Gets the number of pieces wanted from peers and not yet on the device.</summary>
    int PiecesWanted { get; }

    /// <summary>Every region was checked, every local copy made and every zero piece zeroed; what is still wanted comes from peers.</summary>
    void CheckCompleted();
}

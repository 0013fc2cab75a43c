namespace BlockTorrent.Cli.Progress;

/// <summary>
/// What a transfer looks like at one moment, in the terms an operator reads: how much of the image is on the
/// target, how fast it moves each way, and where the pieces came from.
/// </summary>
internal sealed record TransferSnapshot
{
    /// <summary>Gets the phase: <c>checking</c>, <c>downloading</c>, <c>seeding</c> or <c>complete</c>.</summary>
    public required string State { get; init; }

    /// <summary>Gets the image length in bytes.</summary>
    public required long TotalBytes { get; init; }

    /// <summary>Gets the bytes verified on the target (from peers or satisfied locally).</summary>
    public required long CompletedBytes { get; init; }

    /// <summary>Gets the number of pieces in the image.</summary>
    public required int TotalPieces { get; init; }

    /// <summary>Gets the pieces received from peers and verified.</summary>
    public int PiecesFromPeers { get; init; }

    /// <summary>Gets the pieces satisfied without the network: all-zero pieces, copies of duplicates, and pieces the target already held.</summary>
    public int PiecesLocal { get; init; }

    /// <summary>Gets the download rate in bytes per second.</summary>
    public double DownloadRate { get; init; }

    /// <summary>Gets the upload rate in bytes per second.</summary>
    public double UploadRate { get; init; }

    /// <summary>Gets the bytes received from peers so far.</summary>
    public long Downloaded { get; init; }

    /// <summary>Gets the bytes sent to peers so far.</summary>
    public long Uploaded { get; init; }

    /// <summary>Gets the number of connected peers.</summary>
    public int Peers { get; init; }

    /// <summary>Gets the completed fraction, 0 to 1.</summary>
    public double Fraction => TotalBytes <= 0 ? 1 : Math.Clamp((double)CompletedBytes / TotalBytes, 0, 1);

    /// <summary>Gets the estimated time left at the current rate, or <see langword="null"/> when it cannot be estimated.</summary>
    public TimeSpan? Eta
    {
        get
        {
            long left = TotalBytes - CompletedBytes;
            if (left <= 0)
            {
                return TimeSpan.Zero;
            }

            return DownloadRate >= 1 ? TimeSpan.FromSeconds(Math.Min(left / DownloadRate, TimeSpan.FromDays(99).TotalSeconds)) : null;
        }
    }
}

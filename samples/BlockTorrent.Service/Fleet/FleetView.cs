namespace BlockTorrent.Service.Fleet;

/// <summary>A fleet row's figures as shown, from the target's report or from the depot's own view of it.</summary>
internal readonly record struct FleetView(string State, double Percent, int Pieces, int PieceCount, double DownloadRate, double UploadRate, string? Error, int? PiecesFromPeers, int? PiecesLocal)
{
    /// <summary>Gets a value indicating whether the target holds the whole image (done, or seeding it to others).</summary>
    public bool IsComplete => State is "done" or "seeding";

    /// <summary>Gets a value indicating whether the target is still on its way (neither complete nor failed nor stopped).</summary>
    public bool IsUnderway => State is "starting" or "checking" or "downloading";
}

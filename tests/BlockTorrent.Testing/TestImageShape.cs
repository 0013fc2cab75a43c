namespace BlockTorrent.Testing;

/// <summary>
/// The kinds of disk image every swarm mode is tested on (<see cref="TestImage.Realistic"/>): what a real image holds,
/// not only the random bytes that hide the pieces a target fills in itself. Each has a short last piece.
/// </summary>
public enum TestImageShape
{
    /// <summary>Unique random pieces only: every piece travels.</summary>
    Dense,

    /// <summary>Runs of all-zero pieces and single ones (about half the image): never sent, and every zero piece is also a copy of the others.</summary>
    ZeroRuns,

    /// <summary>Many copies of a few pieces (about 40 %): each fetched once and copied locally.</summary>
    Duplicates,

    /// <summary>Zero runs, single zero pieces and duplicates together, in about the shares of a real system disk (half zeros, a seventh copies).</summary>
    ZerosAndDuplicates,
}

namespace BlockTorrent.Writing;

/// <summary>What a <see cref="PieceWriter"/> did, returned by <see cref="PieceWriter.CompleteAsync"/> and <see cref="PieceWriter.GetStatistics"/>.</summary>
public sealed record PieceWriterStatistics
{
    /// <summary>Gets the number of pieces in the image.</summary>
    public int PieceCount { get; init; }

    /// <summary>Gets the number of pieces on the device, verified: written, zero-satisfied, duplicated, rechecked or resumed.</summary>
    public int PiecesOnDevice { get; init; }

    /// <summary>Gets the number of committed pieces whose bytes matched the manifest.</summary>
    public long PiecesVerified { get; init; }

    /// <summary>Gets the number of committed pieces rejected because their bytes did not match the manifest.</summary>
    public long PiecesRejected { get; init; }

    /// <summary>Gets the number of piece positions written with data (a piece and each of its duplicates count once each).</summary>
    public long PiecesWritten { get; init; }

    /// <summary>Gets the number of those positions that were duplicates of a committed piece (copied locally, never fetched).</summary>
    public long DuplicatesWritten { get; init; }

    /// <summary>Gets the number of all-zero pieces satisfied without data.</summary>
    public long ZeroPiecesSatisfied { get; init; }

    /// <summary>Gets the number of pieces found already correct on the device by a recheck.</summary>
    public long PiecesFoundOnDevice { get; init; }

    /// <summary>Gets the bytes of piece data written to the device.</summary>
    public long BytesWritten { get; init; }

    /// <summary>Gets the bytes made to read as zeros without writing data from memory (or skipped because the device was known zeroed).</summary>
    public long BytesZeroed { get; init; }

    /// <summary>Gets the number of write calls issued to the device; fewer than <see cref="PiecesWritten"/> when adjacent pieces were coalesced.</summary>
    public long DeviceWrites { get; init; }

    /// <summary>Gets the number of device writes that failed.</summary>
    public long WriteFailures { get; init; }

    /// <summary>Gets the number of pieces read back and verified after the final flush (see <see cref="PieceWriterOptions.VerifyAfterWrite"/>).</summary>
    public long PiecesReadBack { get; init; }

    /// <summary>Gets the time from the writer's creation to this snapshot.</summary>
    public TimeSpan Elapsed { get; init; }
}

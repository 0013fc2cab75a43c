using Microsoft.Extensions.Logging;

namespace BlockTorrent.Writing;

/// <summary>The writer's log messages. Event ids 4000-4099 belong to this area.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 4000, Level = LogLevel.Warning, Message = "Piece {Piece} failed hash verification and was rejected (source: {Source}); nothing was written")]
    public static partial void PieceRejected(ILogger logger, int piece, object? source);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Error, Message = "Writing {Length} bytes at offset {Offset} of '{Device}' failed; pieces {FirstPiece} to {LastPiece} stay unwritten")]
    public static partial void WriteFailed(ILogger logger, Exception exception, long length, long offset, string device, int firstPiece, int lastPiece);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Information, Message = "Satisfied {Count} all-zero pieces ({Bytes} bytes) on '{Device}' by {Method}")]
    public static partial void ZeroPiecesSatisfied(ILogger logger, int count, long bytes, string device, string method);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Finished writing '{Device}': {OnDevice} of {PieceCount} pieces on the device, {Written} positions written in {Writes} writes, {Rejected} pieces rejected, in {Elapsed}")]
    public static partial void Completed(ILogger logger, string device, int onDevice, int pieceCount, long written, long writes, long rejected, TimeSpan elapsed);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Error, Message = "Piece {Piece} read back from '{Device}' does not match the manifest after it was written")]
    public static partial void ReadBackMismatch(ILogger logger, int piece, string device);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information, Message = "Resume state named {Named} pieces of '{Device}': {Matched} read back and hashed equal to the manifest")]
    public static partial void ResumeChecked(ILogger logger, int named, string device, int matched);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Information, Message = "Recheck of '{Device}' found {Valid} of {Checked} pieces already correct")]
    public static partial void Rechecked(ILogger logger, string device, int valid, int @checked);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Error, Message = "Piece {Piece} could not be verified; it was rejected")]
    public static partial void VerificationFailed(ILogger logger, Exception exception, int piece);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Error, Message = "A background flush of '{Device}' failed; the deployment cannot complete")]
    public static partial void FlushFailed(ILogger logger, Exception exception, string device);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Warning, Message = "{Stale} of the {Named} pieces the resume state named no longer match on '{Device}' (it was written since, or the state is another device's); they will be written again")]
    public static partial void ResumeStale(ILogger logger, int stale, int named, string device);

    [LoggerMessage(EventId = 4040, Level = LogLevel.Information, Message = "Background check of '{Device}' finished: {Checked} regions read, {Found} pieces found in place, {Copied} written from bytes found elsewhere on it")]
    public static partial void BackgroundCheckCompleted(ILogger logger, string device, int @checked, int found, int copied);

    [LoggerMessage(EventId = 4041, Level = LogLevel.Warning, Message = "Piece {Piece} read from region {Region} of '{Device}' no longer matched when copied; it will be fetched")]
    public static partial void LocalCopyMismatch(ILogger logger, int piece, int region, string device);
}

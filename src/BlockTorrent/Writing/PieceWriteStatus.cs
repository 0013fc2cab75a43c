namespace BlockTorrent.Writing;

/// <summary>What became of a committed piece.</summary>
public enum PieceWriteStatus
{
    /// <summary>The bytes matched the manifest and were written at the piece's offset and at every duplicate's offset.</summary>
    Written = 0,

    /// <summary>The bytes did not match the manifest's hash: they were rejected and nothing was written.</summary>
    HashMismatch = 1,

    /// <summary>Every offset the piece's bytes belong at already held them (an earlier commit, a duplicate or a recheck); nothing was written.</summary>
    AlreadyWritten = 2,
}

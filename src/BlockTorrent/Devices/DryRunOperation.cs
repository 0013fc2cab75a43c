namespace BlockTorrent.Devices;

/// <summary>What a dry run would have done to a range.</summary>
public enum DryRunOperation
{
    /// <summary>Written with data.</summary>
    Write = 0,

    /// <summary>Zeroed without data (BLKZEROOUT, hole punching, a write-zeroes command).</summary>
    ZeroRange = 1,

    /// <summary>Discarded (BLKDISCARD, hole punching, TRIM).</summary>
    Discard = 2,
}

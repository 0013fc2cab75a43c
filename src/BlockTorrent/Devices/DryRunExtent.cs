namespace BlockTorrent.Devices;

/// <summary>A range a dry run would have changed.</summary>
/// <param name="Offset">The device offset of the first byte.</param>
/// <param name="Length">The number of bytes.</param>
/// <param name="Operation">What would have been done.</param>
public readonly record struct DryRunExtent(long Offset, long Length, DryRunOperation Operation);

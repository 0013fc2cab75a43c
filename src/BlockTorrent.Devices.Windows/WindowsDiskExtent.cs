namespace BlockTorrent.Devices.Windows;

/// <summary>A run of bytes of a physical disk that belongs to a volume.</summary>
/// <param name="DiskNumber">The disk's number N, as in <c>\\.\PhysicalDriveN</c>.</param>
/// <param name="Offset">The disk offset of the first byte of the run.</param>
/// <param name="Length">The length of the run in bytes.</param>
public readonly record struct WindowsDiskExtent(int DiskNumber, long Offset, long Length);

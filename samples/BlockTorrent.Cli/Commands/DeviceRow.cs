namespace BlockTorrent.Cli.Commands;

/// <summary>One line of <c>blocktorrent devices</c>: a whole disk and whether it may be imaged.</summary>
internal sealed record DeviceRow(string Path, long Size, string? Model, IReadOnlyList<string> MountPoints, bool Safe, IReadOnlyList<string> Reasons, string? BackingFile);

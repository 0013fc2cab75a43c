namespace BlockTorrent.Devices.Windows;

/// <summary>Where the running Windows lives: the disks of its boot volume (the Windows directory) and of its system volume (what the firmware started).</summary>
/// <param name="BootVolume">The boot volume, named for messages (for example <c>C:\</c>), or <see langword="null"/> when unknown.</param>
/// <param name="BootDisks">The disks the boot volume spans.</param>
/// <param name="SystemVolume">The system volume, named for messages, or <see langword="null"/> when unknown.</param>
/// <param name="SystemDisks">The disks the system volume spans.</param>
internal sealed record RunningSystem(string? BootVolume, IReadOnlyCollection<int> BootDisks, string? SystemVolume, IReadOnlyCollection<int> SystemDisks)
{
    /// <summary>Gets a running system on no disk at all (for example WinPE started from RAM, X:).</summary>
    internal static RunningSystem None { get; } = new(null, [], null, []);
}

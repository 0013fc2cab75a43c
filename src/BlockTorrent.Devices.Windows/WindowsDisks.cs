using System.Runtime.Versioning;

namespace BlockTorrent.Devices.Windows;

/// <summary>Enumerates the physical disks of this Windows machine.</summary>
[SupportedOSPlatform("windows")]
public static class WindowsDisks
{
    /// <summary>
    /// Describes every physical disk: number, size, model, bus, removability, state, whether it holds the running
    /// system's system or boot volume, and its volumes. Without elevation, disks are described from what Windows
    /// lets any user query.
    /// </summary>
    /// <param name="cancellationToken">Cancels the enumeration between disks.</param>
    /// <returns>The disks, by number.</returns>
    public static Task<IReadOnlyList<WindowsDisk>> GetDisksAsync(CancellationToken cancellationToken = default) =>
        Task.Run<IReadOnlyList<WindowsDisk>>(() => WindowsDiskProbe.DescribeAll(cancellationToken), cancellationToken);
}

namespace BlockTorrent.Devices.Windows;

/// <summary>A volume that lives, at least in part, on a physical disk.</summary>
public sealed class WindowsVolume
{
    /// <summary>Initializes a new instance.</summary>
    /// <param name="guidPath">The volume's GUID path, for example <c>\\?\Volume{6b29fc40-ca47-1067-b31d-00dd010662da}\</c>.</param>
    /// <param name="mountPoints">Where the volume is mounted (drive letters and folders), for example <c>E:\</c>; empty when it has none.</param>
    /// <param name="extents">Every disk extent of the volume, on this disk and on any other it spans.</param>
    public WindowsVolume(string guidPath, IReadOnlyList<string> mountPoints, IReadOnlyList<WindowsDiskExtent> extents)
    {
        ArgumentException.ThrowIfNullOrEmpty(guidPath);
        ArgumentNullException.ThrowIfNull(mountPoints);
        ArgumentNullException.ThrowIfNull(extents);
        GuidPath = guidPath;
        MountPoints = mountPoints;
        Extents = extents;
    }

    /// <summary>Gets the volume's GUID path, ending with a backslash.</summary>
    public string GuidPath { get; }

    /// <summary>Gets where the volume is mounted (drive letters and folders); empty when it has none.</summary>
    public IReadOnlyList<string> MountPoints { get; }

    /// <summary>Gets every disk extent of the volume.</summary>
    public IReadOnlyList<WindowsDiskExtent> Extents { get; }

    /// <summary>Gets the volume's mount points followed by its GUID path, for messages: <c>E:\ (\\?\Volume{…}\)</c>.</summary>
    public string DisplayName => MountPoints.Count == 0 ? GuidPath : $"{string.Join(", ", MountPoints)} ({GuidPath})";

    /// <summary>Gets the path that opens the volume itself: the GUID path without its trailing backslash.</summary>
    internal string DevicePath => GuidPath.TrimEnd('\\');

    /// <summary>Returns whether any extent of the volume lies on disk <paramref name="diskNumber"/>.</summary>
    /// <param name="diskNumber">The disk number.</param>
    /// <returns><see langword="true"/> when the volume uses that disk.</returns>
    public bool IsOnDisk(int diskNumber)
    {
        foreach (WindowsDiskExtent extent in Extents)
        {
            if (extent.DiskNumber == diskNumber)
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc />
    public override string ToString() => DisplayName;
}

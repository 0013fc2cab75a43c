using BlockTorrent.Devices.Windows;
using BlockTorrent.Testing;

namespace BlockTorrent.Devices.Windows.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void ThePublicApiOfBlockTorrentDevicesWindowsMatchesItsSnapshot() => PublicApi.AssertMatchesSnapshot(typeof(WindowsBlockDeviceOptions).Assembly);
}

using BlockTorrent.Devices.Linux;
using BlockTorrent.Testing;

namespace BlockTorrent.Devices.Linux.Tests;

public sealed class PublicApiTests
{
    [Fact]
    public void ThePublicApiOfBlockTorrentDevicesLinuxMatchesItsSnapshot() => PublicApi.AssertMatchesSnapshot(typeof(LinuxBlockDevice).Assembly);
}

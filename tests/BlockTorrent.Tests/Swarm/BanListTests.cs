using System.Net;
using BlockTorrent.Swarm;

namespace BlockTorrent.Tests.Swarm;

/// <summary>Bans name the peer, not the address others share with it, until an address proves itself hostile.</summary>
public sealed class BanListTests
{
    private static readonly IPAddress Public = IPAddress.Parse("203.0.113.7");

    [Fact]
    public void ABannedPeerIsRefusedUnderItsIdFromAnyPortAndOthersAtItsAddressAreNot()
    {
        var bans = new BanList();

        bool wholeAddress = bans.Ban(new IPEndPoint(Public, 50000), new IPEndPoint(Public, 6881), "-XX0000-liar00000000"u8);

        Assert.False(wholeAddress);
        Assert.True(bans.IsBanned(new IPEndPoint(Public, 50123), "-XX0000-liar00000000"u8));
        Assert.True(bans.IsBanned(new IPEndPoint(Public, 6881)));
        Assert.False(bans.IsBanned(new IPEndPoint(Public, 6882)));
        Assert.False(bans.IsBanned(new IPEndPoint(Public, 50124), "-XX0000-honest000000"u8));
    }

    [Fact]
    public void ASecondBannedPeerAtAPublicAddressBansTheWholeAddress()
    {
        var bans = new BanList();
        bans.Ban(new IPEndPoint(Public, 50000), null, "-XX0000-liar00000000"u8);

        bool wholeAddress = bans.Ban(new IPEndPoint(Public, 50001), null, "-XX0000-liar00000001"u8);

        Assert.True(wholeAddress);
        Assert.True(bans.IsBanned(new IPEndPoint(Public, 6882)));
        Assert.True(bans.IsBanned(new IPEndPoint(Public, 50124), "-XX0000-anyone000000"u8));
    }

    [Fact]
    public void LoopbackIsNeverBannedWhole()
    {
        var bans = new BanList();
        for (int i = 0; i < 5; i++)
        {
            Assert.False(bans.Ban(new IPEndPoint(IPAddress.Loopback, 50000 + i), null, System.Text.Encoding.ASCII.GetBytes($"-XX0000-liar0000000{i}")));
        }

        Assert.False(bans.IsBanned(new IPEndPoint(IPAddress.Loopback, 6881), "-XX0000-honest000000"u8));
    }

    [Fact]
    public void AnIPv4PeerSeenThroughADualModeSocketIsTheSamePeer()
    {
        var bans = new BanList();
        bans.Ban(new IPEndPoint(Public.MapToIPv6(), 50000), new IPEndPoint(Public.MapToIPv6(), 6881), "-XX0000-liar00000000"u8);
        bans.Ban(new IPEndPoint(Public, 50001), null, "-XX0000-liar00000001"u8);

        Assert.True(bans.IsBanned(new IPEndPoint(Public, 6881)));
        Assert.True(bans.IsBanned(new IPEndPoint(Public.MapToIPv6(), 7000)));
    }
}

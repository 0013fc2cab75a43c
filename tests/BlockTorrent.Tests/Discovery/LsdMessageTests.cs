using System.Security.Cryptography;
using System.Text;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using FsCheck;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Discovery;

public sealed class LsdMessageTests
{
    private static readonly string Host = LsdMessage.HostHeader(LsdMessage.IPv4Group, 6771);

    [Fact]
    public void AnAnnounceRoundTripsItsPortHashesAndCookie()
    {
        Gen<InfoHash[]> hashes = Gen.Choose(1, 20).Select(n => Enumerable.Range(0, n).Select(_ => new InfoHash(RandomNumberGenerator.GetBytes(20))).ToArray());
        Prop.ForAll(hashes.ToArbitrary(), Gen.Choose(1, 65535).ToArbitrary(), (infoHashes, port) =>
        {
            byte[] buffer = new byte[LsdMessage.MaxReceiveLength];
            int length = LsdMessage.Write(buffer, Host, port, infoHashes, "c00k1e");
            var read = new List<InfoHash>();
            return LsdMessage.TryParse(buffer.AsSpan(0, length), out int readPort, read, out string? cookie)
                && readPort == port && cookie == "c00k1e" && read.SequenceEqual(infoHashes);
        }).CheckSeeded();
    }

    [Fact]
    public void TheWireFormatIsBep14s()
    {
        var hash = InfoHash.FromHex("0123456789abcdef0123456789abcdef01234567");
        byte[] buffer = new byte[512];

        int length = LsdMessage.Write(buffer, Host, 6881, [hash], "abc");

        Assert.Equal(
            "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\ncookie: abc\r\n\r\n\r\n",
            Encoding.ASCII.GetString(buffer, 0, length));
    }

    [Fact]
    public void TheIPv6HostHeaderIsBracketed()
    {
        Assert.Equal("[ff15::efc0:988f]:6771", LsdMessage.HostHeader(LsdMessage.IPv6Group, 6771));
    }

    [Fact]
    public void HashesPerMessageKeepsAnnouncesWithin1400Bytes()
    {
        int count = LsdMessage.HashesPerMessage("[ff15::efc0:988f]:6771", "0123456789abcdef");
        InfoHash[] hashes = [.. Enumerable.Range(0, count).Select(_ => new InfoHash(RandomNumberGenerator.GetBytes(20)))];

        int length = LsdMessage.Write([], "[ff15::efc0:988f]:6771", 65535, hashes, "0123456789abcdef");

        Assert.InRange(length, LsdMessage.MaxSendLength - 52, LsdMessage.MaxSendLength);
    }

    [Theory]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nHost: x\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 70000\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: not-hex-not-hex-not-hex-not-hex-not-hex!\r\n\r\n")]
    [InlineData("M-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort 6881\r\n\r\n")]
    public void AnAnnounceWithoutAValidPortAndHashIsRefused(string message)
    {
        Assert.False(LsdMessage.TryParse(Encoding.ASCII.GetBytes(message), out _, [], out _));
    }

    [Fact]
    public void UnknownHeadersAndLowerCaseNamesAreAccepted()
    {
        byte[] message = Encoding.ASCII.GetBytes("bt-search * http/1.1\r\nhost: x\r\nx-future: 1\r\nport: 6881\r\ninfohash: 0123456789ABCDEF0123456789ABCDEF01234567\r\n\r\n\r\n");
        var hashes = new List<InfoHash>();

        Assert.True(LsdMessage.TryParse(message, out int port, hashes, out string? cookie));

        Assert.Equal(6881, port);
        Assert.Null(cookie);
        Assert.Equal(InfoHash.FromHex("0123456789abcdef0123456789abcdef01234567"), Assert.Single(hashes));
    }

    [Fact]
    public void OversizedOrBinaryDatagramsAreRefused()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), bytes =>
        {
            var hashes = new List<InfoHash>();
            bool parsed = LsdMessage.TryParse(bytes, out _, hashes, out _);
            return !parsed || hashes.Count is > 0 and <= LsdMessage.MaxInfoHashesPerMessage;
        }).CheckSeeded();

        byte[] huge = new byte[LsdMessage.MaxReceiveLength + 1];
        huge.AsSpan().Fill((byte)'a');
        Assert.False(LsdMessage.TryParse(huge, out _, [], out _));
    }

    [Fact]
    public void AtMostThirtyTwoHashesAreTakenFromOneAnnounce()
    {
        var text = new StringBuilder("BT-SEARCH * HTTP/1.1\r\nPort: 1\r\n");
        for (int i = 0; i < 36; i++)
        {
            text.Append("Infohash: ").Append(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20))).Append("\r\n");
        }

        var hashes = new List<InfoHash>();
        Assert.True(LsdMessage.TryParse(Encoding.ASCII.GetBytes(text.Append("\r\n").ToString()), out _, hashes, out _));

        Assert.Equal(LsdMessage.MaxInfoHashesPerMessage, hashes.Count);
    }

    [Fact]
    public void APrivateTorrentAllowsNeitherLocalDiscoveryNorPeerExchange()
    {
        Assert.Equal(new DiscoveryPolicy(false, false), DiscoveryPolicy.For(isPrivate: true));
        Assert.Equal(new DiscoveryPolicy(true, true), DiscoveryPolicy.For(isPrivate: false));
        Assert.Equal(new DiscoveryPolicy(false, true), DiscoveryPolicy.For(isPrivate: false, localDiscoveryEnabled: false));
    }
}

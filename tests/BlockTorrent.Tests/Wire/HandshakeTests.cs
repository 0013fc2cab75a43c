using System.Net;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Wire;

public sealed class HandshakeTests
{
    [Fact]
    public void AHandshakeRoundTripsWithItsFeaturesInfoHashAndPeerId()
    {
        byte[] infoHash = Enumerable.Range(1, 20).Select(i => (byte)i).ToArray();
        byte[] peerId = PeerIds.Create();
        var handshake = new PeerHandshake(PeerHandshake.DefaultFeatures, infoHash, peerId);
        byte[] bytes = new byte[PeerHandshake.Size];

        handshake.WriteTo(bytes);
        PeerHandshake? parsed = PeerHandshake.TryParse(bytes);

        Assert.NotNull(parsed);
        Assert.Equal(PeerHandshake.DefaultFeatures, parsed.Features);
        Assert.Equal(infoHash, parsed.InfoHash.ToArray());
        Assert.Equal(peerId, parsed.PeerId.ToArray());
    }

    [Fact]
    public void TheFeatureBitsSitWhereTheBepsPutThem()
    {
        var handshake = new PeerHandshake(PeerHandshake.DefaultFeatures, new byte[20], new byte[20]);
        byte[] bytes = new byte[PeerHandshake.Size];

        handshake.WriteTo(bytes);
        ReadOnlySpan<byte> reserved = bytes.AsSpan(20, 8);

        Assert.Equal(0x10, reserved[5]); // BEP 10 extension protocol
        Assert.Equal(0x04 | 0x10, reserved[7]); // BEP 6 fast extension, BEP 52 v2 upgrade
        Assert.Equal(0, reserved[0] | reserved[1] | reserved[2] | reserved[3] | reserved[4] | reserved[6]);
    }

    [Fact]
    public void AnythingButTheBitTorrentProtocolStringIsNotAHandshake()
    {
        byte[] bytes = new byte[PeerHandshake.Size];
        new PeerHandshake(HandshakeFeatures.None, new byte[20], new byte[20]).WriteTo(bytes);
        bytes[5] ^= 0x20;

        Assert.Null(PeerHandshake.TryParse(bytes));
    }

    [Fact]
    public void APeerIdStartsWithTheAzureusStylePrefix()
    {
        byte[] id = PeerIds.Create();

        Assert.Equal(20, id.Length);
        Assert.Equal("-BT0100-"u8.ToArray(), id[..8]);
        Assert.All(id[8..], b => Assert.True(char.IsAsciiLetterOrDigit((char)b)));
    }

    [Theory]
    [InlineData(7, new[] { 1059, 431, 808, 1217, 287, 376, 1188 })]
    [InlineData(9, new[] { 1059, 431, 808, 1217, 287, 376, 1188, 353, 508 })]
    public void TheAllowedFastSetMatchesTheExampleInBep6(int count, int[] expected)
    {
        byte[] infoHash = Enumerable.Repeat((byte)0xAA, 20).ToArray();
        int[] set = new int[count];

        int written = AllowedFastSet.Compute(IPAddress.Parse("80.4.4.200"), infoHash, 1313, count, set);

        Assert.Equal(count, written);
        Assert.Equal(expected, set);
    }

    [Fact]
    public void TheAllowedFastSetOfASmallTorrentHoldsEveryPieceOnce()
    {
        int[] set = new int[10];

        int written = AllowedFastSet.Compute(IPAddress.Parse("10.0.0.1"), new byte[20], 3, 10, set);

        Assert.Equal(3, written);
        Assert.Equal([0, 1, 2], set[..3].Order());
    }
}

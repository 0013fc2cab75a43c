using System.Net;
using BlockTorrent.Manifest;

namespace BlockTorrent.Tests.Manifest;

public sealed class MagnetLinkTests
{
    private const string V1Hex = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
    private const string V2Hex = "d8dd32ac93357c368556af3ac1d95c9d76bd0dff6fa9833ecdac3d53134efabb";

    [Fact]
    public void AHybridLinkWithEveryFieldParses()
    {
        var link = MagnetLink.Parse($"magnet:?xt=urn:btih:{V1Hex}&xt=urn:btmh:1220{V2Hex}&dn=disk+image%20v2&xl=1048576"
            + "&tr=http%3A%2F%2Ftracker.example%2Fannounce&tr=udp%3A%2F%2F10.0.0.1%3A6969&x.pe=10.0.0.2:6881&x.pe=[fe80::1]:51413&x.pe=seed.example:6882");

        Assert.Equal(V1Hex, link.InfoHashV1!.Value.ToHex());
        Assert.Equal(V2Hex, link.InfoHashV2!.Value.ToHex());
        Assert.Equal("disk image v2", link.DisplayName);
        Assert.Equal(1048576, link.ExactLength);
        Assert.Equal(["http://tracker.example/announce", "udp://10.0.0.1:6969"], link.Trackers);
        Assert.Equal(new EndPoint[] { IPEndPoint.Parse("10.0.0.2:6881"), IPEndPoint.Parse("[fe80::1]:51413"), new DnsEndPoint("seed.example", 6882) }, link.Peers);
    }

    [Fact]
    public void ABase32InfoHashEqualsItsHexadecimalForm()
    {
        var link = MagnetLink.Parse("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK");

        Assert.Equal(V1Hex, link.InfoHashV1!.Value.ToHex());
    }

    [Fact]
    public void NumberedParametersAreAccepted()
    {
        var link = MagnetLink.Parse($"magnet:?xt.1=urn:btih:{V1Hex}&tr.1=http%3A%2F%2Fa%2Fannounce&tr.2=http%3A%2F%2Fb%2Fannounce");

        Assert.Equal(2, link.Trackers.Count);
    }

    [Fact]
    public void FormattingAndParsingRoundTrip()
    {
        var link = new MagnetLink(InfoHash.FromHex(V1Hex), InfoHash.FromHex(V2Hex), "name & more", ["http://t.example/a?x=1&y=2"], [IPEndPoint.Parse("[::1]:7000"), new DnsEndPoint("h.example", 1)], 42);

        var again = MagnetLink.Parse(link.ToString());

        Assert.Equal(link.ToString(), again.ToString());
        Assert.Equal("name & more", again.DisplayName);
        Assert.Equal(["http://t.example/a?x=1&y=2"], again.Trackers);
        Assert.Equal(link.Peers, again.Peers);
    }

    [Theory]
    [InlineData("http://example/", "starts with 'magnet:?'")]
    [InlineData("magnet:?dn=x", "no 'xt=urn:btih:'")]
    [InlineData("magnet:?xt=urn:btih:1234", "not 40 hexadecimal digits or 32 base32")]
    [InlineData("magnet:?xt=urn:btih:zz2fe1c06bba254a9dc9f519b335aa7c1367a88a", "not 40 hexadecimal")]
    [InlineData("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE1", "base32")]
    [InlineData("magnet:?xt=urn:btmh:1114d8dd32ac93357c368556af3ac1d95c9d76bd0dff6fa9833ecdac3d53134efabb", "SHA-256 multihash")]
    [InlineData("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&xt=urn:btih:d12fe1c06bba254a9dc9f519b335aa7c1367a88a", "two different v1")]
    [InlineData("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&x.pe=10.0.0.1", "not host:port")]
    [InlineData("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&x.pe=host:99999", "not host:port")]
    [InlineData("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&xl=-1", "non-negative")]
    [InlineData("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&tr=not%20a%20url", "absolute URL")]
    [InlineData("magnet:?xt", "has no value")]
    public void InvalidLinksAreRejectedSayingWhy(string text, string reason)
    {
        var e = Assert.Throws<FormatException>(() => MagnetLink.Parse(text));

        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.False(MagnetLink.TryParse(text, out _));
    }

    [Fact]
    public async Task AManifestsLinkCarriesItsHashesNameTrackersAndLength()
    {
        var options = new ManifestBuilderOptions { PieceLength = 16384 };
        options.Trackers.Add("http://tracker.example/announce");
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new byte[50000], "zeros.img", options, TestContext.Current.CancellationToken);

        var link = MagnetLink.Parse(MagnetLink.FromManifest(manifest).ToString());

        Assert.Equal(manifest.InfoHashV1, link.InfoHashV1);
        Assert.Equal(manifest.InfoHashV2, link.InfoHashV2);
        Assert.Equal("zeros.img", link.DisplayName);
        Assert.Equal(manifest.Trackers, link.Trackers);
        Assert.Equal(50000, link.ExactLength);
    }

    [Fact]
    public async Task ALinksPeersResolveToEndPointsInOrderLeavingOutNamesThatDoNotResolve()
    {
        MagnetLink link = MagnetLink.Parse($"magnet:?xt=urn:btih:{V1Hex}&x.pe=10.1.2.3:6881&x.pe=localhost:7000&x.pe=no-such-host.invalid:7001&x.pe=[::1]:7002");

        IReadOnlyList<IPEndPoint> peers = await link.ResolvePeersAsync(TestContext.Current.CancellationToken);

        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.1.2.3"), 6881), peers[0]);
        Assert.Contains(peers, p => p.Port == 7000 && IPAddress.IsLoopback(p.Address));
        Assert.DoesNotContain(peers, p => p.Port == 7001);
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Loopback, 7002), peers[^1]);
    }
}

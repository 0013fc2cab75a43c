using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BlockTorrent.Bencode;
using BlockTorrent.Discovery;
using BlockTorrent.Testing;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Discovery;

public sealed class HttpTrackerResponseTests
{
    private static readonly Uri Tracker = new("http://tracker.test/announce");

    [Fact]
    public void CompactPeersOfBothFamiliesRoundTripThroughAnAnnounceResponse()
    {
        Prop.ForAll(
            CompactPeersTests.PeerLists(AddressFamily.InterNetwork).ToArbitrary(),
            CompactPeersTests.PeerLists(AddressFamily.InterNetworkV6).ToArbitrary(),
            (v4, v6) =>
            {
                byte[] body = Encode(w =>
                {
                    w.WriteString("interval"u8);
                    w.WriteInteger(900);
                    w.WriteString("peers"u8);
                    w.WriteString(Compact(v4, 6));
                    w.WriteString("peers6"u8);
                    w.WriteString(Compact(v6, 18));
                });
                AnnounceResponse response = HttpTrackerResponse.ParseAnnounce(body, Tracker, int.MaxValue);
                return response.Peers.SequenceEqual(v4.Concat(v6)) && response.Interval == TimeSpan.FromSeconds(900);
            }).CheckSeeded();
    }

    [Fact]
    public void NonCompactPeersAreReadAndMalformedEntriesSkipped()
    {
        byte[] body = Encoding.ASCII.GetBytes(
            "d8:intervali60e5:peersl"
            + "d2:ip8:10.0.0.17:peer id20:aaaaaaaaaaaaaaaaaaaa4:porti6881ee"
            + "d2:ip7:fe80::14:porti6882ee"
            + "d2:ip9:not-an-ip4:porti1ee"
            + "d2:ip8:10.0.0.24:porti0ee"
            + "i5e"
            + "ee");

        AnnounceResponse response = HttpTrackerResponse.ParseAnnounce(body, Tracker, 100);

        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.0.0.1"), 6881), new IPEndPoint(IPAddress.Parse("fe80::1"), 6882)], response.Peers);
    }

    [Fact]
    public void AFailureReasonBecomesAFailureException()
    {
        TrackerException e = Assert.Throws<TrackerException>(() => HttpTrackerResponse.ParseAnnounce("d14:failure reason12:unregisterede"u8, Tracker, 10));

        Assert.True(e.IsFailureReason);
        Assert.Contains("unregistered", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WarningTrackerIdAndCountsAreRead()
    {
        AnnounceResponse response = HttpTrackerResponse.ParseAnnounce(
            "d8:completei3e10:incompletei4e8:intervali60e12:min intervali30e5:peers0:10:tracker id3:xyz15:warning message4:slowe"u8, Tracker, 10);

        Assert.Equal((3, 4), (response.Seeders, response.Leechers));
        Assert.Equal(TimeSpan.FromSeconds(30), response.MinInterval);
        Assert.Equal("xyz", response.TrackerId);
        Assert.Equal("slow", response.WarningMessage);
    }

    [Fact]
    public void PeersBeyondTheBoundAreIgnored()
    {
        IPEndPoint[] many = [.. Enumerable.Range(1, 500).Select(i => new IPEndPoint(new IPAddress([10, 1, (byte)(i >> 8), (byte)i]), 80))];
        byte[] body = Encode(w =>
        {
            w.WriteString("peers"u8);
            w.WriteString(Compact(many, 6));
        });

        Assert.Equal(20, HttpTrackerResponse.ParseAnnounce(body, Tracker, 20).Peers.Count);
    }

    [Fact]
    public void AnyBodyIsReadOrRefusedWithATrackerException()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), body =>
        {
            try
            {
                return HttpTrackerResponse.ParseAnnounce(body, Tracker, 50).Peers.Count <= 50;
            }
            catch (TrackerException)
            {
                return true;
            }
        }).CheckSeeded();
    }

    [Theory]
    [InlineData("d5:peers5:abcdee")]
    [InlineData("d8:interval3:abce")]
    [InlineData("l8:intervale")]
    [InlineData("d8:intervali60ee trailing")]
    [InlineData("d5:peersi3ee")]
    public void AMalformedAnnounceResponseIsRefused(string body)
    {
        TrackerException e = Assert.Throws<TrackerException>(() => HttpTrackerResponse.ParseAnnounce(Encoding.ASCII.GetBytes(body), Tracker, 50));

        Assert.False(e.IsFailureReason);
    }

    [Fact]
    public void ATrailingNewlineIsTolerated()
    {
        Assert.Equal(TimeSpan.FromSeconds(60), HttpTrackerResponse.ParseAnnounce("d8:intervali60ee\r\n"u8, Tracker, 1).Interval);
    }

    [Fact]
    public void PercentEncodingOfBinaryValuesRoundTrips()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), value =>
        {
            var query = new StringBuilder();
            TrackerQuery.Append(query, "info_hash", value);
            return TrackerQuery.TryParse(Encoding.ASCII.GetBytes(query.ToString(1, query.Length - 1)), 4, out var parameters)
                && (value.Length == 0 ? parameters.Count == 1 && parameters[0].Value.Length == 0 : parameters[0].Value.AsSpan().SequenceEqual(value));
        }).CheckSeeded();
    }

    [Fact]
    public void ABrokenEscapeOrTooManyParametersIsRefused()
    {
        Assert.False(TrackerQuery.TryParse("a=%4"u8, 10, out _));
        Assert.False(TrackerQuery.TryParse("a=%zz"u8, 10, out _));
        Assert.False(TrackerQuery.TryParse("a=1&b=2&c=3"u8, 2, out _));
    }

    private static byte[] Compact(IPEndPoint[] peers, int entry)
    {
        byte[] data = new byte[peers.Length * entry];
        for (int i = 0; i < peers.Length; i++)
        {
            CompactPeers.Write(peers[i], data.AsSpan(i * entry));
        }

        return data;
    }

    private static byte[] Encode(Action<BencodeWriter> entries)
    {
        var output = new ArrayBufferWriter<byte>();
        var writer = new BencodeWriter(output);
        writer.WriteStartDictionary();
        entries(writer);
        writer.WriteEnd();
        return output.WrittenSpan.ToArray();
    }
}

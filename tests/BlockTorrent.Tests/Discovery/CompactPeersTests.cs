using System.Net;
using System.Net.Sockets;
using BlockTorrent.Discovery;
using BlockTorrent.Testing;
using FsCheck;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Discovery;

public sealed class CompactPeersTests
{
    [Fact]
    public void CompactPeersRoundTripInBothFamilies()
    {
        Prop.ForAll(PeerLists(AddressFamily.InterNetwork).ToArbitrary(), peers => RoundTrips(peers, AddressFamily.InterNetwork)).CheckSeeded();
        Prop.ForAll(PeerLists(AddressFamily.InterNetworkV6).ToArbitrary(), peers => RoundTrips(peers, AddressFamily.InterNetworkV6)).CheckSeeded();
    }

    [Fact]
    public void ALengthThatIsNotAMultipleOfTheEntryIsRejected()
    {
        Prop.ForAll(Gen.Choose(1, 400).Select(n => new byte[n]).ToArbitrary(), bytes =>
        {
            bool v4 = CompactPeers.TryRead(bytes, AddressFamily.InterNetwork, [], [], 1000);
            bool v6 = CompactPeers.TryRead(bytes, AddressFamily.InterNetworkV6, [], [], 1000);
            return v4 == (bytes.Length % 6 == 0) && v6 == (bytes.Length % 18 == 0);
        }).CheckSeeded();
    }

    [Fact]
    public void ReadingStopsAtTheBoundOnPeers()
    {
        byte[] data = new byte[6 * 100];
        for (int i = 0; i < 100; i++)
        {
            CompactPeers.Write(new IPEndPoint(new IPAddress([10, 0, (byte)(i / 250), (byte)((i % 250) + 1)]), 1000 + i), data.AsSpan(i * 6));
        }

        var peers = new List<IPEndPoint>();
        Assert.True(CompactPeers.TryRead(data, AddressFamily.InterNetwork, peers, [], 7));

        Assert.Equal(7, peers.Count);
    }

    [Fact]
    public void PortZeroAndDuplicateEntriesAreSkipped()
    {
        byte[] data = new byte[18];
        CompactPeers.Write(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 0), data);
        CompactPeers.Write(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 80), data.AsSpan(6));
        CompactPeers.Write(new IPEndPoint(IPAddress.Parse("10.0.0.2"), 80), data.AsSpan(12));
        var peers = new List<IPEndPoint>();

        CompactPeers.TryRead(data, AddressFamily.InterNetwork, peers, [], 100);

        Assert.Equal([new IPEndPoint(IPAddress.Parse("10.0.0.2"), 80)], peers);
    }

    [Fact]
    public void AnIPv4MappedAddressIsWrittenAsIPv4()
    {
        byte[] data = new byte[18];

        int written = CompactPeers.Write(new IPEndPoint(IPAddress.Parse("::ffff:192.168.1.9"), 6881), data);

        Assert.Equal(6, written);
        Assert.Equal(new byte[] { 192, 168, 1, 9, 0x1a, 0xe1 }, data[..6]);
    }

    internal static Gen<IPEndPoint[]> PeerLists(AddressFamily family) =>
        Gen.ArrayOf(
            from address in Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), family == AddressFamily.InterNetwork ? 4 : 16)
            from port in Gen.Choose(1, 65535)
            select new IPEndPoint(new IPAddress(address), port))
        .Select(peers => peers.Where(p => !p.Address.Equals(IPAddress.Any) && !p.Address.Equals(IPAddress.IPv6Any) && !p.Address.IsIPv4MappedToIPv6).DistinctBy(p => p.ToString()).ToArray());

    private static bool RoundTrips(IPEndPoint[] peers, AddressFamily family)
    {
        int entry = CompactPeers.EntryLength(family);
        byte[] data = new byte[peers.Length * entry];
        for (int i = 0; i < peers.Length; i++)
        {
            CompactPeers.Write(peers[i], data.AsSpan(i * entry));
        }

        var read = new List<IPEndPoint>();
        return CompactPeers.TryRead(data, family, read, [], int.MaxValue) && read.SequenceEqual(peers);
    }
}

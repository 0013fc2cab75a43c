using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
using FsCheck.Fluent;

namespace BlockTorrent.Tests.Discovery;

public sealed class UdpTrackerMessagesTests
{
    [Fact]
    public void AConnectRequestCarriesTheMagicActionAndTransaction()
    {
        byte[] packet = new byte[16];

        UdpTrackerMessages.WriteConnect(packet, 0x01020304);

        Assert.Equal(Convert.FromHexString("0000041727101980" + "00000000" + "01020304"), packet);
    }

    [Fact]
    public void AnAnnounceRequestPutsEveryFieldAtItsBep15Offset()
    {
        var request = new AnnounceRequest
        {
            InfoHash = new InfoHash(Enumerable.Range(1, 20).Select(i => (byte)i).ToArray()),
            PeerId = Enumerable.Range(101, 20).Select(i => (byte)i).ToArray(),
            Port = 6881,
            Downloaded = 5,
            Left = 6,
            Uploaded = 7,
            Event = AnnounceEvent.Stopped,
            Key = 0xCAFEBABE,
            NumWant = -5,
        };
        byte[] packet = new byte[UdpTrackerMessages.AnnounceRequestLength];

        UdpTrackerMessages.WriteAnnounce(packet, 0x1122334455667788, 42, request);

        Assert.Equal(0x1122334455667788, BinaryPrimitives.ReadInt64BigEndian(packet));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(8)));
        Assert.Equal(42, BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(12)));
        Assert.Equal(request.InfoHash20.ToArray(), packet[16..36]);
        Assert.Equal(request.PeerId.ToArray(), packet[36..56]);
        Assert.Equal(5, BinaryPrimitives.ReadInt64BigEndian(packet.AsSpan(56)));
        Assert.Equal(6, BinaryPrimitives.ReadInt64BigEndian(packet.AsSpan(64)));
        Assert.Equal(7, BinaryPrimitives.ReadInt64BigEndian(packet.AsSpan(72)));
        Assert.Equal(3, BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(80)));
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(84)));
        Assert.Equal(0xCAFEBABE, BinaryPrimitives.ReadUInt32BigEndian(packet.AsSpan(88)));
        Assert.Equal(-1, BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(92)));
        Assert.Equal(6881, BinaryPrimitives.ReadUInt16BigEndian(packet.AsSpan(96)));
    }

    [Fact]
    public void AnnounceResponsesReturnTheirPeersInBothFamilies()
    {
        foreach (AddressFamily family in new[] { AddressFamily.InterNetwork, AddressFamily.InterNetworkV6 })
        {
            Prop.ForAll(CompactPeersTests.PeerLists(family).ToArbitrary(), peers =>
            {
                int entry = CompactPeers.EntryLength(family);
                byte[] packet = new byte[20 + (peers.Length * entry)];
                BinaryPrimitives.WriteInt32BigEndian(packet, 1);
                BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(8), 1800);
                BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(12), 3);
                BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(16), 4);
                for (int i = 0; i < peers.Length; i++)
                {
                    CompactPeers.Write(peers[i], packet.AsSpan(20 + (i * entry)));
                }

                AnnounceResponse? response = UdpTrackerMessages.ReadAnnounce(packet, family, int.MaxValue);
                return response is not null && response.Peers.SequenceEqual(peers) && response.Interval == TimeSpan.FromSeconds(1800)
                    && response.Leechers == 3 && response.Seeders == 4;
            }).CheckSeeded();
        }
    }

    [Fact]
    public void AnyDatagramIsEitherReadOrRefusedWithoutThrowing()
    {
        Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), packet =>
        {
            AnnounceResponse? response = UdpTrackerMessages.ReadAnnounce(packet, AddressFamily.InterNetwork, 50);
            UdpTrackerMessages.ReadScrape(packet, 3);
            UdpTrackerMessages.TryReadHeader(packet, out _, out _);
            return response is null ? packet.Length < 20 : response.Peers.Count <= 50;
        }).CheckSeeded();
    }

    [Fact]
    public void AnErrorMessageIsCleanedOfControlCharactersAndBounded()
    {
        byte[] packet = [0, 0, 0, 3, 0, 0, 0, 9, .. "bad\r\n\u001b[31mtorrent"u8, .. new byte[5000].Select(_ => (byte)'x')];

        string message = UdpTrackerMessages.ReadError(packet);

        Assert.StartsWith("bad  ", message, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', message);
        Assert.True(message.Length <= TrackerText.MaxLength);
    }

    [Fact]
    public void AScrapeRequestListsItsHashesAfterTheHeader()
    {
        byte[][] hashes = [RandomNumberGenerator.GetBytes(20), RandomNumberGenerator.GetBytes(20)];
        byte[] packet = new byte[56];

        int length = UdpTrackerMessages.WriteScrape(packet, 7, 8, [.. hashes.Select(h => (ReadOnlyMemory<byte>)h)]);

        Assert.Equal(56, length);
        Assert.Equal(2, BinaryPrimitives.ReadInt32BigEndian(packet.AsSpan(8)));
        Assert.Equal(hashes[0], packet[16..36]);
        Assert.Equal(hashes[1], packet[36..56]);
    }
}

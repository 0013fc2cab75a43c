using System.Security.Cryptography;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;

namespace BlockTorrent.Interop.Tests.Discovery;

internal static class DiscoveryTestData
{
    public static InfoHash RandomInfoHash() => new(RandomNumberGenerator.GetBytes(20));

    public static byte[] RandomPeerId()
    {
        byte[] id = RandomNumberGenerator.GetBytes(AnnounceRequest.PeerIdLength);
        "-BT0001-"u8.CopyTo(id);
        return id;
    }

    public static AnnounceRequest Announce(InfoHash infoHash, int port, long left, AnnounceEvent @event = AnnounceEvent.Started) => new()
    {
        InfoHash = infoHash,
        PeerId = RandomPeerId(),
        Port = port,
        Left = left,
        Event = @event,
    };
}

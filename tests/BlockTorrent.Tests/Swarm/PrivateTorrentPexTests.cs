using System.Net;
using System.Net.Sockets;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// BEP 27 in the swarm: peers named by peer exchange (BEP 11) are connected to for a public torrent and never for a
/// private one, whose peers come only from its trackers and the addresses the user gave.
/// </summary>
public sealed class PrivateTorrentPexTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task PeersNamedByPeerExchangeAreDialledOnlyForAPublicTorrent(bool isPrivate)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        byte[] image = new BlockTorrent.Testing.TestImage { Length = 1024 * 1024, Seed = 81, BlockSize = SwarmTestImages.PieceLength }.ToArray();
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(
            new MemoryBlockDevice((byte[])image.Clone()),
            new ManifestBuilderOptions { PieceLength = SwarmTestImages.PieceLength, Name = "image.raw", IsPrivate = isPrivate },
            cts.Token);

        // The address the seed names by ut_pex: a listener that never accepts, so a dial waits in its backlog.
        using var named = new TcpListener(IPAddress.Loopback, 0);
        named.Start();
        var endPoint = (IPEndPoint)named.LocalEndpoint;
        byte[] pex = [.. "d5:added6:"u8, 127, 0, 0, 1, (byte)(endPoint.Port >> 8), (byte)endPoint.Port, (byte)'e'];

        // The only seed sends the ut_pex message (under the id our extended handshake gives it for a public torrent)
        // before anything else, so it is handled before the first piece is asked for.
        await using var seed = new HostilePeer(manifest, async (c, ct) =>
        {
            await c.SendExtendedAsync(0, "d1:md6:ut_pexi1eee", ct);
            await c.SendExtendedAsync(HostilePeer.UtPexId, pex, ct);
            await c.HaveAllAndUnchokeAsync(ct);
            await c.ServeAsync(
                block => c.SendAsync(w => MessageWriter.WritePiece(w, block.Piece, block.Offset, image.AsSpan((int)manifest.GetPieceOffset(block.Piece) + block.Offset, block.Length)), ct),
                ct);
        });
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        var target = new MemoryBlockDevice(manifest.Length);

        await deployer.DeployAsync(manifest, target, SwarmTestImages.From(seed.EndPoint), null, cts.Token);

        Assert.True(image.AsSpan().SequenceEqual(target.Contents.Span));
        Assert.Equal(!isPrivate, named.Pending());
    }
}

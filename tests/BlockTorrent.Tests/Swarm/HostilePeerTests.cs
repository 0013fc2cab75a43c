using System.Buffers.Binary;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Swarm;

/// <summary>
/// Peers that lie, garble, flood or stall: the engine survives each, bans what deserves it, and the target ends
/// bit-exact because an honest (slower) seed is also in the swarm.
/// </summary>
public sealed class HostilePeerTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    public static TheoryData<string, byte[]> Garbage => new()
    {
        { "a length prefix of 2 GiB", [0x7F, 0xFF, 0xFF, 0xFF, 7] },
        { "an unknown message id", [0, 0, 0, 1, 99] },
        { "a have for a piece that does not exist", [0, 0, 0, 5, 4, 0x7F, 0, 0, 0] },
        { "a bitfield of the wrong length", [0, 0, 0, 3, 5, 0xFF, 0xFF] },
        { "a choke with a body", [0, 0, 0, 3, 0, 1, 2] },
        { "a truncated request", [0, 0, 0, 13, 6, 0, 0, 0] },
        { "an extended handshake that is not bencode", [0, 0, 0, 6, 20, 0, (byte)'d', (byte)'x', (byte)'x', (byte)'x'] },
        { "a piece message for a block we never asked for", [0, 0, 0, 13, 7, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4] },
    };

    [Theory]
    [MemberData(nameof(Garbage))]
    public async Task TheEngineDropsAPeerThatSendsMalformedMessagesAndStillCompletes(string what, byte[] message)
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(2 * 1024 * 1024, seed: 41);
        await using var hostile = new HostilePeer(manifest, async (c, ct) =>
        {
            await c.HaveAllAndUnchokeAsync(ct);
            await c.SendRawAsync(message, ct);
            await c.ServeAsync(null, ct);
        });

        MemoryBlockDevice target = await DeployWithHostileAsync(image, manifest, hostile, TimeSpan.Zero);

        Assert.True(image.AsSpan().SequenceEqual(target.Contents.Span), $"the target differs after {what}");
    }

    [Fact]
    public async Task APeerSendingCorruptPiecesIsBannedAndTheDiskStaysCorrect()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(3 * 1024 * 1024, seed: 42);
        await using var hostile = new HostilePeer(manifest, async (c, ct) =>
        {
            await c.HaveAllAndUnchokeAsync(ct);
            byte[] junk = new byte[PiecePickerBlock];
            Random.Shared.NextBytes(junk);
            await c.ServeAsync(block => c.SendAsync(w => MessageWriter.WritePiece(w, block.Piece, block.Offset, junk.AsSpan(0, block.Length)), ct), ct);
        });
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        var events = new List<SwarmEvent>();
        Task watching = Task.Run(
            async () =>
        {
            await foreach (SwarmEvent e in deployer.WatchEventsAsync(cts.Token))
            {
                lock (events)
                {
                    events.Add(e);
                }
            }
        },
            cts.Token);
        var slowSeed = new SlowDevice(new MemoryBlockDevice(image), TimeSpan.FromMilliseconds(200));
        Task seeding = seeder.SeedAsync(manifest, slowSeed, null, cts.Token);
        var target = new MemoryBlockDevice(manifest.Length);

        DeploymentResult result = await deployer.DeployAsync(manifest, target, SwarmTestImages.From(hostile.EndPoint, seeder.LocalEndPoint), null, cts.Token);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.True(result.HashFailures >= 3, $"{result.HashFailures} hash failures");
        lock (events)
        {
            Assert.Contains(events, e => e.Kind == SwarmEventKind.PeerBanned && e.Peer!.Port == hostile.EndPoint.Port);
        }

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);
    }

    [Fact]
    public async Task RequestsToAPeerThatNeverAnswersAreReissuedToAnother()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(2 * 1024 * 1024, seed: 43);
        await using var staller = new HostilePeer(manifest, async (c, ct) =>
        {
            await c.HaveAllAndUnchokeAsync(ct);
            await c.ServeAsync(null, ct);
        });

        MemoryBlockDevice target = await DeployWithHostileAsync(image, manifest, staller, TimeSpan.FromMilliseconds(100));

        Assert.Equal(image, target.Contents.ToArray());
        Assert.True(staller.RequestsReceived > 0, "the staller was asked for blocks");
    }

    [Fact]
    public async Task APeerFloodingUsWithRequestsForPiecesWeLackDoesNotStopTheDeployment()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(2 * 1024 * 1024, seed: 44);
        await using var flooder = new HostilePeer(manifest, async (c, ct) =>
        {
            await c.SendAsync(w => MessageWriter.WriteSimple(w, MessageId.Interested), ct);
            for (int i = 0; i < 5000; i++)
            {
                int piece = i % manifest.PieceCount;
                await c.SendAsync(w => MessageWriter.WriteBlock(w, MessageId.Request, new BlockRequest(piece, 0, PiecePickerBlock)), ct);
            }

            await c.ServeAsync(null, ct);
        });

        MemoryBlockDevice target = await DeployWithHostileAsync(image, manifest, flooder, TimeSpan.Zero);

        Assert.Equal(image, target.Contents.ToArray());
    }

    private const int PiecePickerBlock = 16 * 1024;

    /// <summary>Deploys from the hostile peer plus an honest seed whose reads take <paramref name="seedDelay"/> each.</summary>
    private static async Task<MemoryBlockDevice> DeployWithHostileAsync(byte[] image, TorrentManifest manifest, HostilePeer hostile, TimeSpan seedDelay)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        IBlockDevice source = seedDelay > TimeSpan.Zero ? new SlowDevice(new MemoryBlockDevice(image), seedDelay) : new MemoryBlockDevice(image);
        Task seeding = seeder.SeedAsync(manifest, source, null, cts.Token);
        var target = new MemoryBlockDevice(manifest.Length);
        await deployer.DeployAsync(manifest, target, SwarmTestImages.From(hostile.EndPoint, seeder.LocalEndPoint), null, cts.Token);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
        return target;
    }
}

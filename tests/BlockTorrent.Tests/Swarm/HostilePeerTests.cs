using System.Buffers.Binary;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;
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
        { "a ut_pex message that is not bencode", Extended(HostilePeer.UtPexId, "dxx") },
        { "a ut_pex message with a truncated address", Extended(HostilePeer.UtPexId, "d5:added5:\u007f\0\0\u0001\u001ae") },
        { "a ut_metadata request for a negative piece", Extended(HostilePeer.UtMetadataId, "d8:msg_typei0e5:piecei-1ee") },
        { "a ut_metadata request for a piece beyond the info dictionary", Extended(HostilePeer.UtMetadataId, "d8:msg_typei0e5:piecei4000ee") },
        { "a hashes message nobody asked for", HashesNobodyAskedFor() },
        { "a bt_stream_window message with an empty window", Extended(BlockTorrent.Swarm.Extensions.StreamWindowExchange.WantedId, "d3:endi4e5:starti4ee") },
    };

    private static byte[] Extended(byte id, string payload)
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        MessageWriter.WriteExtended(output, id, System.Text.Encoding.Latin1.GetBytes(payload));
        return output.WrittenSpan.ToArray();
    }

    private static byte[] HashesNobodyAskedFor()
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        MessageWriter.WriteHashes(output, new HashRequest(default, 1, 0, 2, 0), new byte[64]);
        return output.WrittenSpan.ToArray();
    }

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
        await using var hostile = CorruptingPeer(manifest);
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

        // The event stream is read on another task, which may lag behind the deployment on a loaded machine.
        await Eventually.TrueAsync(
            () =>
            {
                lock (events)
                {
                    return events.Exists(e => e.Kind == SwarmEventKind.PeerBanned && e.Peer!.Port == hostile.EndPoint.Port);
                }
            },
            TimeSpan.FromSeconds(10),
            "the corrupting peer's ban event",
            TestContext.Current.CancellationToken);

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);
    }

    [Fact]
    public async Task ABannedPeerStaysOutWhenItComesBackWhileAnHonestPeerAtTheSameAddressStillGetsIn()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(2 * 1024 * 1024, seed: 49);
        await using var hostile = CorruptingPeer(manifest);
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        var banned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Task watching = Task.Run(
            async () =>
            {
                await foreach (SwarmEvent e in deployer.WatchEventsAsync(cts.Token))
                {
                    if (e.Kind == SwarmEventKind.PeerBanned)
                    {
                        banned.TrySetResult();
                    }
                }
            },
            cts.Token);
        var target = new MemoryBlockDevice(manifest.Length);
        Task<DeploymentResult> deploying = deployer.DeployAsync(manifest, target, SwarmTestImages.From(hostile.EndPoint), null, cts.Token);
        await banned.Task.WaitAsync(cts.Token);

        // The liar dials back in from a new port under its peer id: the handshake is answered, then the line is cut
        // before any message (an admitted peer would get our have-none and extended handshake first).
        HostilePeer.Connection? back = await hostile.DialAsync(deployer.LocalEndPoint, cts.Token);
        if (back is not null)
        {
            Exception cut = await Assert.ThrowsAnyAsync<Exception>(() => back.ReadMessageAsync(cts.Token));
            Assert.True(cut is EndOfStreamException or IOException, $"the connection of the banned peer ended with {cut}");
        }

        // An honest seed on the same address (127.0.0.1) connects to the deployer and completes it.
        var seedOptions = new SeedOptions();
        seedOptions.Peers.Add(deployer.LocalEndPoint);
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), seedOptions, cts.Token);
        DeploymentResult result = await deploying;

        Assert.Equal(image, target.Contents.ToArray());
        Assert.True(result.HashFailures >= 3, $"{result.HashFailures} hash failures");
        Assert.Equal(1, hostile.Connections);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => watching);
    }

    [Theory]
    [InlineData("ut_metadata requests")]
    [InlineData("requests for blocks while choked")]
    public async Task APeerThatFloodsRequestsButNeverReadsTheAnswersIsDroppedBeforeOurSendQueueGrowsWithoutBound(string flood)
    {
        // 1024 pieces: an info dictionary of two 16 KiB metadata pieces, so each metadata answer is 16 KiB.
        var (image, manifest) = await SwarmTestImages.CreateAsync(16 * 1024 * 1024, seed: 50, TorrentVersions.V1, pieceLength: 16 * 1024);
        var dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var flooder = new HostilePeer(manifest, async (c, ct) =>
        {
            try
            {
                await c.SendExtendedAsync(0, "d1:md11:ut_metadatai3eee", ct);
                byte[][] requests = flood == "ut_metadata requests"
                    ? [Extended(HostilePeer.UtMetadataId, "d8:msg_typei0e5:piecei0ee"), Extended(HostilePeer.UtMetadataId, "d8:msg_typei0e5:piecei1ee")]
                    : [Request(0), Request(1)];

                // Far more answers than the socket buffers hold (hundreds of megabytes of metadata; 34 MB of rejects),
                // so the engine's sending blocks; the flooder reads none of them until it is done.
                byte[] batch = [.. Enumerable.Range(0, 1000).SelectMany(i => requests[i % 2])];
                int batches = flood == "ut_metadata requests" ? 20 : 2000;
                for (int i = 0; i < batches; i++)
                {
                    await c.SendRawAsync(batch, ct);
                }

                await c.ServeAsync(null, ct);
            }
            catch (Exception e) when (e is IOException or EndOfStreamException)
            {
                dropped.TrySetResult();
            }
        });
        await SwarmTestImages.SeedToAsync(image, manifest, flooder.EndPoint, ct => dropped.Task.WaitAsync(ct), Bound);
    }

    private static byte[] Request(int piece)
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        MessageWriter.WriteBlock(output, MessageId.Request, new BlockRequest(piece, 0, PiecePickerBlock));
        return output.WrittenSpan.ToArray();
    }

    [Fact]
    public async Task JunkSentForBlocksWeAskedAnHonestSeedForIsNeverTakenSoNoPieceFailsItsHash()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(2 * 1024 * 1024, seed: 45);
        byte[] junk = new byte[PiecePickerBlock];
        Random.Shared.NextBytes(junk);
        int blocksPerPiece = manifest.PieceLength / PiecePickerBlock;

        // Has nothing, so it is never asked for anything, and every few milliseconds sends junk for the last block of
        // every piece, hoping to land inside a piece the (slow) seed is sending before the seed's own copy arrives.
        await using var sniper = new HostilePeer(manifest, async (c, ct) =>
        {
            await c.SendAsync(w => MessageWriter.WriteSimple(w, MessageId.HaveNone), ct);
            using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(5));
            while (await pace.WaitForNextTickAsync(ct))
            {
                for (int piece = 0; piece < manifest.PieceCount; piece++)
                {
                    int p = piece, offset = (blocksPerPiece - 1) * PiecePickerBlock;
                    await c.SendAsync(w => MessageWriter.WritePiece(w, p, offset, junk), ct);
                }
            }
        });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new SlowDevice(new MemoryBlockDevice(image), TimeSpan.FromMilliseconds(100)), null, cts.Token);
        var target = new MemoryBlockDevice(manifest.Length);

        DeploymentResult result = await deployer.DeployAsync(manifest, target, SwarmTestImages.From(seeder.LocalEndPoint, sniper.EndPoint), null, cts.Token);

        Assert.Equal(image, target.Contents.ToArray());
        Assert.Equal(0, result.HashFailures);
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
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

    [Theory]
    [InlineData("offers metadata far beyond the size limit", "more than the limit")]
    [InlineData("sends metadata that does not hash to the info-hash", "banned: the metadata it sent does not hash")]
    [InlineData("sends a metadata piece of another size than it announced", "which we did not ask for")]
    [InlineData("sends a truncated metadata piece", "an invalid ut_metadata message")]
    [InlineData("rejects every metadata request", "refused metadata piece 0")]
    public async Task AMagnetFetchRefusesAPeerThat(string what, string reason)
    {
        var (_, manifest) = await SwarmTestImages.CreateAsync(1024 * 1024, seed: 45, TorrentVersions.V1);
        byte[] info = manifest.InfoDictionary.ToArray();
        bool asked = false;
        await using var hostile = new HostilePeer(manifest, async (c, ct) =>
        {
            int size = what.Contains("beyond", StringComparison.Ordinal) ? 40 * 1024 * 1024 : info.Length;
            await c.OfferMetadataAsync(size, ct);
            asked = true;
            byte[] junk = (byte[])info.Clone();
            junk[^2] ^= 0x55;
            await c.SendMetadataAsync(
                w =>
                {
                    switch (what)
                    {
                        case "sends metadata that does not hash to the info-hash":
                            MetadataMessage.Write(w, MetadataMessageType.Data, 0, junk.Length, junk);
                            break;
                        case "sends a metadata piece of another size than it announced":
                            MetadataMessage.Write(w, MetadataMessageType.Data, 0, info.Length + 1, [.. info, 0]);
                            break;
                        case "sends a truncated metadata piece":
                            MetadataMessage.Write(w, MetadataMessageType.Data, 0, info.Length, info.AsSpan(0, info.Length - 10));
                            break;
                        default:
                            MetadataMessage.Write(w, MetadataMessageType.Reject, 0, 0, default);
                            break;
                    }
                },
                ct);
            await c.ServeAsync(null, ct);
        });

        TimeoutException error = await FetchOnlyFromAsync(manifest, hostile);

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Equal(!what.Contains("beyond", StringComparison.Ordinal), asked);
    }

    [Fact]
    public async Task AMagnetDeploymentCompletesDespiteAPeerSendingCorruptMetadata()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(2 * 1024 * 1024, seed: 46, TorrentVersions.Hybrid);
        byte[] junk = manifest.InfoDictionary.ToArray();
        junk[^2] ^= 0x55;
        await using var hostile = new HostilePeer(manifest, async (c, ct) =>
        {
            await c.OfferMetadataAsync(junk.Length, ct);
            await c.SendMetadataAsync(w => MetadataMessage.Write(w, MetadataMessageType.Data, 0, junk.Length, junk), ct);
            await c.ServeAsync(null, ct);
        });
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), null, cts.Token);
        var magnet = new MagnetLink(manifest.InfoHashV1, manifest.InfoHashV2, peers: [hostile.EndPoint, seeder.LocalEndPoint]);
        var target = new MemoryBlockDevice(manifest.Length);

        await deployer.DeployAsync(magnet, target, null, null, cts.Token);

        Assert.Equal(image, target.Contents.ToArray());
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Theory]
    [InlineData("tampered hashes", "banned: the piece layer hashes")]
    [InlineData("hashes for a range we did not ask for", "banned: the piece layer hashes")]
    [InlineData("a hash reject", "refused our request for the piece layer")]
    public async Task AV2MagnetFetchRefusesAPeerThatAnswersItsHashRequestWith(string what, string reason)
    {
        var (_, manifest) = await SwarmTestImages.CreateAsync(2 * 1024 * 1024, seed: 47, TorrentVersions.V2);
        byte[] info = manifest.InfoDictionary.ToArray();
        await using var hostile = new HostilePeer(manifest, async (c, ct) =>
        {
            await c.OfferMetadataAsync(info.Length, ct);
            await c.SendMetadataAsync(w => MetadataMessage.Write(w, MetadataMessageType.Data, 0, info.Length, info), ct);
            HashRequest request = ParseHashRequest(await c.ReadUntilAsync(MessageId.HashRequest, ct));
            byte[] hashes = new byte[64 * 32];
            Assert.True(manifest.TryGetHashes(request.BaseLayer, request.Index, request.Length, request.ProofLayers, hashes, out int written));
            switch (what)
            {
                case "tampered hashes":
                    hashes[40] ^= 1;
                    await c.SendAsync(w => MessageWriter.WriteHashes(w, request, hashes.AsSpan(0, written)), ct);
                    break;
                case "hashes for a range we did not ask for":
                    await c.SendAsync(w => MessageWriter.WriteHashes(w, request with { Index = request.Index + request.Length }, hashes.AsSpan(0, written)), ct);
                    break;
                default:
                    await c.SendAsync(w => MessageWriter.WriteHashRequest(w, MessageId.HashReject, request), ct);
                    break;
            }

            await c.ServeAsync(null, ct);
        });

        TimeoutException error = await FetchOnlyFromAsync(manifest, hostile);

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HashRequestsWithAbsurdNumbersAreRejectedAndAValidOneIsAnsweredWithAProof()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(3 * 1024 * 1024, seed: 48, TorrentVersions.V2);
        var root = Sha256Hash.From(manifest.PiecesRoot);
        int pieceLayer = manifest.PieceLayerHeight;
        int width = (int)MerkleTree.RoundUpToPowerOfTwo(manifest.PieceCount);
        HashRequest valid = new(root, pieceLayer, 0, width, manifest.TreeHeight - pieceLayer - 1);
        HashRequest[] absurd =
        [
            valid with { PiecesRoot = default },
            valid with { Length = int.MaxValue },
            valid with { Length = 1 << 20 },
            valid with { ProofLayers = int.MaxValue },
            valid with { Index = int.MaxValue - 1, Length = 2 },
            valid with { BaseLayer = int.MaxValue },
            valid with { BaseLayer = 0, Length = 2 * manifest.LeavesPerPiece }, // leaves of two pieces
        ];
        List<(MessageId Id, byte[] Body)> answers = await AskASeedForHashesAsync(image, manifest, [.. absurd, valid]);

        Assert.All(answers.Take(absurd.Length), a => Assert.Equal(MessageId.HashReject, a.Item1));
        (MessageId lastId, byte[] last) = answers[^1];
        Assert.Equal(MessageId.Hashes, lastId);
        Assert.True(MerkleTree.VerifyHashes(manifest.PiecesRoot, manifest.TreeHeight, pieceLayer, 0, width, last.AsSpan(HashRequest.EncodedSize)));
    }

    /// <summary>Sends hash requests to a seed of <paramref name="manifest"/> and collects its answers (hashes or rejects), in order.</summary>
    internal static async Task<List<(MessageId Id, byte[] Body)>> AskASeedForHashesAsync(byte[] image, TorrentManifest manifest, IReadOnlyList<HashRequest> requests)
    {
        var answers = new List<(MessageId Id, byte[] Body)>();
        await using var hostile = new HostilePeer(manifest, async (c, ct) =>
        {
            foreach (HashRequest request in requests)
            {
                await c.SendAsync(w => MessageWriter.WriteHashRequest(w, MessageId.HashRequest, request), ct);
            }

            while (answers.Count < requests.Count)
            {
                (MessageId id, byte[] body) = await c.ReadMessageAsync(ct);
                if (id is MessageId.Hashes or MessageId.HashReject)
                {
                    answers.Add((id, body));
                }
            }

            await c.ServeAsync(null, ct);
        });
        await SwarmTestImages.SeedToAsync(
            image,
            manifest,
            hostile.EndPoint,
            ct => BlockTorrent.Testing.Eventually.TrueAsync(() => answers.Count == requests.Count, Bound, "an answer to every hash request", ct),
            Bound);
        return answers;
    }

    /// <summary>Fetches the manifest's metadata from the hostile peer alone, which must fail.</summary>
    private static async Task<TimeoutException> FetchOnlyFromAsync(TorrentManifest manifest, HostilePeer hostile)
    {
        await using var client = new BlockTorrentClient(SwarmTestImages.Loopback());
        DeployOptions options = SwarmTestImages.From(hostile.EndPoint);
        options.MetadataTimeout = TimeSpan.FromSeconds(2);
        return await Assert.ThrowsAsync<TimeoutException>(() => client.FetchManifestAsync(MagnetLink.FromManifest(manifest), options, TestContext.Current.CancellationToken));
    }

    internal static HashRequest ParseHashRequest(byte[] body) => new(
        Sha256Hash.From(body.AsSpan(0, 32)),
        BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(32)),
        BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(36)),
        BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(40)),
        BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(44)));

    private const int PiecePickerBlock = 16 * 1024;

    /// <summary>A peer that has every piece and answers every request with random bytes.</summary>
    private static HostilePeer CorruptingPeer(TorrentManifest manifest) => new(manifest, async (c, ct) =>
    {
        await c.HaveAllAndUnchokeAsync(ct);
        byte[] junk = new byte[PiecePickerBlock];
        Random.Shared.NextBytes(junk);
        await c.ServeAsync(block => c.SendAsync(w => MessageWriter.WritePiece(w, block.Piece, block.Offset, junk.AsSpan(0, block.Length)), ct), ct);
    });

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

using System.Buffers;
using System.Net;
using BlockTorrent.Devices;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;
using BlockTorrent.Swarm;
using BlockTorrent.Wire;

namespace BlockTorrent.Tests.Swarm;

/// <summary>Peers named to a target by a hostile peer must not keep it from the real ones.</summary>
public sealed class CandidatePoisoningTests
{
    [Fact]
    public async Task APeerSendingAThousandBogusPexEntriesCannotKeepATargetFromTheRealSeed()
    {
        var (image, manifest) = await SwarmTestImages.CreateAsync(2 * 1024 * 1024, seed: 163);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        var flooded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // The hostile peer has nothing, and names peers that are not there, 50 to a list, as fast as the target reads
        // them: 1000 at once, then fresh ones for as long as the test runs, so without the PEX rate limit its names
        // would keep the target's list full.
        await using var hostile = new HostilePeer(manifest, async (c, ct) =>
        {
            await c.SendExtendedAsync(0, "d1:md6:ut_pexi1eee", ct);
            await c.SendAsync(w => MessageWriter.WriteSimple(w, MessageId.HaveNone), ct);
            byte[] theirs = await c.ReadUntilAsync(MessageId.Extended, ct, extensionId: 0);
            Assert.True(ExtensionHandshake.TryParse(theirs, null, out ExtensionHandshake handshake) && handshake.UtPex != 0, "the target offers ut_pex");
            for (int list = 0; !ct.IsCancellationRequested; list++)
            {
                var pex = new PexMessage();
                for (int i = 0; i < 50; i++)
                {
                    int n = (list * 50) + i;
                    pex.Added.Add(new PexPeer(Bogus(n), PexFlags.Seed));
                }

                var payload = new ArrayBufferWriter<byte>();
                pex.WriteTo(payload);
                await c.SendExtendedAsync(handshake.UtPex, payload.WrittenSpan.ToArray(), ct);
                if (list == 19)
                {
                    flooded.TrySetResult();
                }
            }
        });

        // The real seed is found later, through the tracker the target announces to every second.
        await using var tracker = new EmbeddedTracker(new EmbeddedTrackerOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            AdvertisedHost = "127.0.0.1",
            AnnounceInterval = TimeSpan.FromSeconds(1),
            MinAnnounceInterval = TimeSpan.Zero,
        });
        await tracker.StartAsync(cts.Token);
        await using var deployer = new BlockTorrentClient(SwarmTestImages.Loopback());
        var options = SwarmTestImages.From(hostile.EndPoint);
        options.Trackers.Add(tracker.AnnounceUri);
        var target = new MemoryBlockDevice(manifest.Length);
        Task<DeploymentResult> deploying = deployer.DeployAsync(manifest, target, options, null, cts.Token);
        await flooded.Task.WaitAsync(cts.Token);

        // The seed uses no tracker and dials nobody: it is announced to the tracker by hand, so the only way the
        // target reaches it is by dialling the name the tracker gives, past the 1000 bogus names it holds.
        await using var seeder = new BlockTorrentClient(SwarmTestImages.Loopback());
        Task seeding = seeder.SeedAsync(manifest, new MemoryBlockDevice(image), new SeedOptions(), cts.Token);
        using (var http = new HttpClient())
        {
            string announce = $"{tracker.AnnounceUri}?info_hash={Escape((manifest.InfoHashV1 ?? manifest.InfoHashV2)!.Value.Truncated20)}&peer_id={Escape("-XX0000-seedbyhand00"u8)}"
                + $"&port={seeder.LocalEndPoint.Port}&uploaded=0&downloaded=0&left=0&compact=1&event=started";
            using HttpResponseMessage response = await http.GetAsync(new Uri(announce), cts.Token);
            Assert.True(response.IsSuccessStatusCode, $"the tracker took the seed's announce: {response.StatusCode}");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cts.Token);
        deadline.CancelAfter(TimeSpan.FromSeconds(30));
        await deploying.WaitAsync(deadline.Token);

        Assert.True(image.AsSpan().SequenceEqual(target.Contents.Span), "the target differs from the image");
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => seeding);
    }

    [Theory]
    [InlineData("224.0.0.251", 6881, null, "not a unicast address")]
    [InlineData("255.255.255.255", 6881, null, "not a unicast address")]
    [InlineData("0.0.0.0", 6881, null, "not a unicast address")]
    [InlineData("::", 6881, null, "not a unicast address")]
    [InlineData("ff02::1", 6881, null, "not a unicast address")]
    [InlineData("10.0.0.7", 0, null, "port 0")]
    [InlineData("127.0.0.1", 6999, null, "our own endpoint")]
    [InlineData("127.0.0.1", 6881, "10.0.0.9", "a loopback address named by another host")]
    [InlineData("::1", 6881, "10.0.0.9", "a loopback address named by another host")]
    [InlineData("127.0.0.1", 6881, "127.0.0.1", null)]
    [InlineData("127.0.0.1", 6881, null, null)]
    [InlineData("10.0.0.7", 6881, "10.0.0.9", null)]
    public void ANamedPeerIsDialledOnlyWhenItsAddressCanBeAnotherPeer(string address, int port, string? source, string? reason)
    {
        Assert.Equal(reason, PeerAddress.Rejects(new IPEndPoint(IPAddress.Parse(address), port), source is null ? null : IPAddress.Parse(source), listenPort: 6999));
    }

    [Fact]
    public void APeerOnlyPexNamedIsForgottenAfterItFailsAndATrustedOneIsNot()
    {
        var candidates = new PeerCandidates(listenPort: 6999);
        var exchanged = new IPEndPoint(IPAddress.Parse("10.0.0.7"), 6881);
        var trusted = new IPEndPoint(IPAddress.Parse("10.0.0.8"), 6881);
        candidates.Add([trusted], source: null, trusted: true);
        candidates.Add([exchanged], IPAddress.Parse("10.0.0.9"), trusted: false);

        for (int i = 0; i < PeerCandidates.MaxFailures; i++)
        {
            foreach (IPEndPoint due in candidates.TakeDue(long.MaxValue, 10, 10, _ => false))
            {
                candidates.DialEnded(due, connected: false, 0, 1);
            }
        }

        Assert.Equal([trusted], candidates.TakeDue(long.MaxValue, 10, 10, _ => false));
    }

    [Fact]
    public void APeerATrustedSourceNamesFindsRoomInAListFullOfPexNames()
    {
        var candidates = new PeerCandidates(listenPort: 6999);
        var source = IPAddress.Parse("10.0.0.9");
        candidates.Add(Enumerable.Range(0, PeerCandidates.Capacity).Select(Bogus), source, trusted: false);
        var seed = new IPEndPoint(IPAddress.Parse("10.0.0.8"), 6881);

        candidates.Add([seed], source: null, trusted: true);

        Assert.True(candidates.IsReserved(seed));
    }

    [Fact]
    public void ATrackerOnAnotherHostCannotNameLoopbackPeersAndOneOnThisMachineCan()
    {
        var candidates = new PeerCandidates(listenPort: 6999);
        var local = new IPEndPoint(IPAddress.Loopback, 6881);
        var remote = new IPEndPoint(IPAddress.Parse("10.0.0.7"), 6881);

        candidates.Add([local, remote], IPAddress.Parse("10.0.0.9"), trusted: true);
        Assert.Equal([remote], candidates.TakeDue(long.MaxValue, 10, 10, _ => false));

        candidates.Add([local], IPAddress.Loopback, trusted: true);
        Assert.Equal([local], candidates.TakeDue(long.MaxValue, 10, 10, _ => false));
    }

    [Fact]
    public void AMagnetFetchRefusesTheNamesTheSwarmRefuses()
    {
        var fetcher = new MetadataFetcher(new NoDialHost(), new InfoHash(new byte[20]), null, 1 << 20);
        var remote = new IPEndPoint(IPAddress.Parse("10.0.0.7"), 6881);
        var local = new IPEndPoint(IPAddress.Loopback, 6881);

        fetcher.AddCandidates([remote, local, new(IPAddress.Parse("224.0.0.251"), 6881), new(IPAddress.Parse("10.0.0.8"), 0)], IPAddress.Parse("10.0.0.9"));
        fetcher.AddCandidates([new(IPAddress.Loopback, NoDialHost.Port), new(IPAddress.Broadcast, 6881)], source: null);
        Assert.Equal([remote], fetcher.KnownPeers);

        fetcher.AddCandidates([local], IPAddress.Loopback);
        Assert.Equal([remote, local], fetcher.KnownPeers);
    }

    // Addresses nobody answers at: the three documentation networks (RFC 5737), never this machine's ports.
    private static IPEndPoint Bogus(int n)
    {
        byte[][] networks = [[192, 0, 2], [198, 51, 100], [203, 0, 113]];
        byte[] network = networks[n % 3];
        return new IPEndPoint(new IPAddress([network[0], network[1], network[2], (byte)(1 + (n / 3 % 254))]), 1024 + (n % 60000));
    }

    [Fact]
    public void APeerOnlyPexNamedDuringAMagnetFetchReachesTheDeploymentAsAPexName()
    {
        var fetcher = new MetadataFetcher(new NoDialHost(), new InfoHash(new byte[20]), null, 1 << 20);
        var tracker = IPAddress.Parse("10.0.0.9");
        var helper = new IPEndPoint(IPAddress.Parse("10.0.0.5"), 6881);
        var both = new IPEndPoint(IPAddress.Parse("10.0.0.7"), 6881);
        var exchanged = new IPEndPoint(IPAddress.Parse("10.0.0.8"), 6881);

        fetcher.AddCandidates([helper], tracker);
        fetcher.AddExchangedCandidates(helper, [both, exchanged, new(IPAddress.Loopback, 6881)]);
        fetcher.AddCandidates([both], tracker);
        DeployOptions options = new DeployOptions().WithPeers(fetcher.NamedPeers, fetcher.ExchangedPeers);

        Assert.Equal([helper, both], options.Peers);
        Assert.Equal([(exchanged, helper.Address)], options.ExchangedPeers);
    }

    /// <summary>A host for a fetch that is never run: peers are only added, never dialled.</summary>
    private sealed class NoDialHost : ISwarmHost
    {
        public const int Port = 6999;

        public ReadOnlyMemory<byte> PeerId { get; } = new byte[20];

        public int ListenPort => Port;

        public SwarmSettings Settings => throw new NotSupportedException("the fetch is never run");

        public TimeProvider Time => TimeProvider.System;

        public Microsoft.Extensions.Logging.ILogger Logger => Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public bool HasEventWatchers => false;

        public void Publish(SwarmEvent swarmEvent)
        {
        }
    }

    private static string Escape(ReadOnlySpan<byte> bytes)
    {
        var text = new System.Text.StringBuilder(bytes.Length * 3);
        foreach (byte b in bytes)
        {
            text.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }

        return text.ToString();
    }
}

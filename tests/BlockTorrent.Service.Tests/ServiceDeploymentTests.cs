using System.Text.Json;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

public sealed class ServiceDeploymentTests : IDisposable
{
    private const byte MessageHave = 4;
    private const byte MessageBitfield = 5;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<bool, TestImageShape> SeedingAndShapes()
    {
        var data = new TheoryData<bool, TestImageShape>();
        foreach (bool superSeed in new[] { false, true })
        {
            foreach (TestImageShape shape in Enum.GetValues<TestImageShape>())
            {
                data.Add(superSeed, shape);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(SeedingAndShapes))]
    public async Task ADepotAndTwoTargetsCompleteADeploymentBitExactWhetherItSuperSeedsAndWhateverTheShapeOfTheImage(bool superSeed, TestImageShape shape)
    {
        // 256 KiB pieces: a super-seeding depot offers four at a time, as to the fleets that stalled on duplicates.
        TestImage image = TestImage.Realistic(shape, 256 * 1024, 96, seed: 9);
        await using ServiceInstance depot = await StartDepotAsync(image, superSeed, pieceSize: 256 * 1024);

        await using ServiceInstance first = await StartTargetAsync($"{depot.ManifestsUrl}/images/disk.img.torrent", "target1.img");
        await using ServiceInstance second = await StartTargetAsync($"{depot.ManifestsUrl}/images/disk.img.torrent", "target2.img");
        await Eventually.TrueAsync(() => first.Board.Target!.State == "seeding" && second.Board.Target!.State == "seeding", Bound, "both targets finish and seed", TestContext.Current.CancellationToken);

        byte[] expected = image.ToArray();
        Assert.Equal(expected, File.ReadAllBytes(_dir.File("target1.img")));
        Assert.Equal(expected, File.ReadAllBytes(_dir.File("target2.img")));
        Assert.False(File.Exists(_dir.File("target1.img") + ".blocktorrent-resume"));
        JsonElement target = (await first.GetStatusAsync()).GetProperty("target");
        Assert.Equal(100, target.GetProperty("percent").GetDouble());
        Assert.Equal("disk.img", target.GetProperty("name").GetString());

        // The depot's figures come from the library's progress reports, about four a second, and the image can cross
        // loopback between two of them.
        static long BytesServed(byte[] status) => JsonDocument.Parse(status).RootElement.GetProperty("images")[0].GetProperty("bytesServed").GetInt64();
        await Eventually.TrueAsync(() => BytesServed(depot.Board.ToJson()) > 0, Bound, "the depot reports the bytes it served", TestContext.Current.CancellationToken);
        JsonElement served = (await depot.GetStatusAsync()).GetProperty("images")[0];
        Assert.Equal("disk.img", served.GetProperty("name").GetString());
        Assert.True(served.GetProperty("bytesServed").GetInt64() > 0, served.ToString());
    }

    [Fact]
    public async Task ATargetGivenAMagnetLinkFetchesTheManifestFromTheDepotKeepsItAndDeploysBitExact()
    {
        var image = new TestImage { Length = 2 << 20, Seed = 7 };

        // Opts out of TLS swarms: a magnet link carries no ssl-cert, so a TLS swarm's metadata cannot be fetched by one.
        await using ServiceInstance depot = await StartDepotAsync(image, tlsSwarm: false);
        var manifest = BlockTorrent.Manifest.TorrentManifest.Load(_dir.File("images/disk.img.torrent"));
        string magnet = BlockTorrent.Manifest.MagnetLink.FromManifest(manifest) + "&x.pe=" + depot.Board.PeerEndPoint;

        await using ServiceInstance target = await StartTargetAsync(magnet, "target.img");
        await Eventually.TrueAsync(() => target.Board.Target!.State == "seeding", Bound, "the target finishes and seeds", TestContext.Current.CancellationToken);

        Assert.Equal(image.ToArray(), File.ReadAllBytes(_dir.File("target.img")));
        var saved = BlockTorrent.Manifest.TorrentManifest.Load(Path.Combine(_dir.File("state"), manifest.InfoHashV2!.Value.ToHex() + ".torrent"));
        Assert.Equal(manifest.InfoHashV2, saved.InfoHashV2);
    }

    [Fact]
    public async Task ADepotCreatesTheMissingManifestAnnouncingItsTracker()
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await new TestImage { Length = 1 << 20 }.WriteFileAsync(Path.Combine(images, "a.img"), TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        await using ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("a.img", out var s) && s!.State == "seeding", Bound, "the depot seeds a.img", TestContext.Current.CancellationToken);

        var manifest = BlockTorrent.Manifest.TorrentManifest.Load(Path.Combine(images, "a.img.torrent"));
        JsonElement status = await depot.GetStatusAsync();
        Assert.Equal([status.GetProperty("tracker").GetString()!], manifest.Trackers);
        Assert.Equal(1 << 20, manifest.Length);
    }

    [Fact]
    public async Task ADepotWhoseTrackerMovedRewritesTheAnnounceOfTheManifestsItCreatedKeepingTheInfoHash()
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        string torrent = Path.Combine(images, "a.img.torrent");
        await new TestImage { Length = 1 << 20 }.WriteFileAsync(Path.Combine(images, "a.img"), TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        BlockTorrent.Manifest.TorrentManifest created;
        await using (ServiceInstance first = await ServiceInstance.StartAsync(_dir.Path, settings))
        {
            await Eventually.TrueAsync(() => first.Board.TryGetImage("a.img", out var s) && s!.State == "seeding", Bound, "the first depot seeds a.img", TestContext.Current.CancellationToken);
            created = BlockTorrent.Manifest.TorrentManifest.Load(torrent);
        }

        // The next run's tracker listens elsewhere (port 0: another free port).
        await using ServiceInstance second = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => second.Board.TryGetImage("a.img", out var s) && s!.State == "seeding", Bound, "the second depot seeds a.img", TestContext.Current.CancellationToken);

        var rewritten = BlockTorrent.Manifest.TorrentManifest.Load(torrent);
        string tracker = (await second.GetStatusAsync()).GetProperty("tracker").GetString()!;
        Assert.NotEqual([tracker], created.Trackers);
        Assert.Equal([tracker], rewritten.Trackers);
        Assert.Equal(created.InfoHashV1, rewritten.InfoHashV1);
        Assert.Equal(created.InfoHashV2, rewritten.InfoHashV2);
        Assert.Equal(created.CreatedBy, rewritten.CreatedBy);
        Assert.Equal(created.CreationDate, rewritten.CreationDate);
    }

    [Fact]
    public async Task ADepotLeavesTheAnnounceOfAManifestItDidNotCreate()
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        string torrent = Path.Combine(images, "a.img.torrent");
        string path = Path.Combine(images, "a.img");
        await new TestImage { Length = 1 << 20 }.WriteFileAsync(path, TestContext.Current.CancellationToken);
        var options = new BlockTorrent.Manifest.ManifestBuilderOptions { CreatedBy = "an operator" };
        options.Trackers.Add("http://tracker.invalid/announce");
        byte[] original = (await BlockTorrent.Manifest.ManifestBuilder.CreateAsync(path, options, TestContext.Current.CancellationToken)).ToTorrentBytes();
        await File.WriteAllBytesAsync(torrent, original, TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;

        await using ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("a.img", out var s) && s!.State == "seeding", Bound, "the depot seeds a.img", TestContext.Current.CancellationToken);

        // The depot signs it (the signature sits outside the info dictionary), and leaves its announce and its info alone.
        var parsed = BlockTorrent.Manifest.TorrentManifest.Parse(original);
        var served = BlockTorrent.Manifest.TorrentManifest.Load(torrent);
        Assert.Equal(["http://tracker.invalid/announce"], served.Trackers);
        Assert.Equal(parsed.InfoHashV1, served.InfoHashV1);
        Assert.Equal(parsed.InfoHashV2, served.InfoHashV2);
        Assert.Equal("an operator", served.CreatedBy);
        Assert.Single(served.Signatures);
    }

    [Fact]
    public async Task ARestartedTargetFindsTheImageAlreadyOnTheDeviceAndFetchesNothing()
    {
        var image = new TestImage { Length = 2 << 20, Seed = 9 };
        await using ServiceInstance depot = await StartDepotAsync(image);
        string torrent = $"{depot.ManifestsUrl}/images/disk.img.torrent";
        await using (ServiceInstance once = await StartTargetAsync(torrent, "target.img", stopWhenDone: true))
        {
            await once.Stopped;
            Assert.Equal(0, once.Board.ExitCode);
        }

        await using ServiceInstance again = await StartTargetAsync(torrent, "target.img", stopWhenDone: true);
        await again.Stopped;

        JsonElement result = JsonDocument.Parse(again.Board.ToJson()).RootElement.GetProperty("target").GetProperty("result");
        Assert.Equal(0, result.GetProperty("piecesDownloaded").GetInt32());
        Assert.Equal(image.ToArray(), File.ReadAllBytes(_dir.File("target.img")));
    }

    [Fact]
    public async Task ATargetProcessSetToStopWhenDoneWithoutSeedAfterExitsWithZeroOnceTheDeviceIsBitExact()
    {
        var image = new TestImage { Length = 4 << 20, Seed = 13 };
        await using ServiceInstance depot = await StartDepotAsync(image);

        await using ServiceProcess target = StartTargetProcess($"{depot.ManifestsUrl}/images/disk.img.torrent", "target.img", "--BlockTorrent:Target:StopWhenDone=true");

        Assert.True(await target.WaitForExitAsync(Bound) == 0, target.Output);
        Assert.Contains("Target: disk.img is on", target.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Target: seeding", target.Output, StringComparison.Ordinal);
        Assert.Equal(image.ToArray(), await File.ReadAllBytesAsync(_dir.File("target.img"), TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task ATargetProcessSetToStopWhenDoneWithASeedAfterSeedsThatLongThenExitsWithZero()
    {
        var image = new TestImage { Length = 4 << 20, Seed = 17 };
        await using ServiceInstance depot = await StartDepotAsync(image);

        await using ServiceProcess target = StartTargetProcess($"{depot.ManifestsUrl}/images/disk.img.torrent", "target.img", "--BlockTorrent:Target:StopWhenDone=true", "--BlockTorrent:Target:SeedAfter=00:00:02");

        Assert.True(await target.WaitForExitAsync(Bound) == 0, target.Output);
        Assert.Contains("Target: seeding disk.img from", target.Output, StringComparison.Ordinal);
        Assert.Contains("to the other targets for 00:00:02", target.Output, StringComparison.Ordinal);
        Assert.Equal(image.ToArray(), await File.ReadAllBytesAsync(_dir.File("target.img"), TestContext.Current.CancellationToken));
    }

    [Theory]
    [InlineData(false, MessageBitfield)]
    [InlineData(true, MessageHave)]
    public async Task ADepotAnnouncesItsWholeImageUnlessSetToSuperSeedWhenItOffersAPieceAtATime(bool superSeed, int expectedFirstAnnouncement)
    {
        var image = new TestImage { Length = 2 << 20, Seed = 11 };

        // Opts out of TLS swarms: the peer here is a plain BEP 3 peer written by hand, which speaks no TLS.
        await using ServiceInstance depot = await StartDepotAsync(image, superSeed, tlsSwarm: false);
        var manifest = BlockTorrent.Manifest.TorrentManifest.Load(_dir.File("images/disk.img.torrent"));

        // A plain BEP 3 peer (no extension bits) that has nothing and wants everything.
        using var peer = new System.Net.Sockets.TcpClient();
        await peer.ConnectAsync(System.Net.IPEndPoint.Parse(depot.Board.PeerEndPoint!), TestContext.Current.CancellationToken);
        Stream wire = peer.GetStream();
        byte[] handshake = new byte[68];
        handshake[0] = 19;
        "BitTorrent protocol"u8.CopyTo(handshake.AsSpan(1));
        manifest.InfoHashV1!.Value.Truncated20.CopyTo(handshake.AsSpan(28));
        "-XX0000-service-test"u8[..20].CopyTo(handshake.AsSpan(48));
        await wire.WriteAsync(handshake, TestContext.Current.CancellationToken);
        await wire.ReadExactlyAsync(new byte[68], TestContext.Current.CancellationToken);
        int bitfieldLength = (manifest.PieceCount + 7) / 8;
        byte[] hello = new byte[4 + 1 + bitfieldLength + 5];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(hello, 1 + bitfieldLength);
        hello[4] = MessageBitfield;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(hello.AsSpan(5 + bitfieldLength), 1);
        hello[^1] = 2; // interested
        await wire.WriteAsync(hello, TestContext.Current.CancellationToken);

        // The first message that announces pieces: a whole bitfield from a plain seed, a have (an offer) from a super-seed.
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        bound.CancelAfter(Bound);
        byte[] header = new byte[4];
        while (true)
        {
            await wire.ReadExactlyAsync(header, bound.Token);
            byte[] body = new byte[System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(header)];
            await wire.ReadExactlyAsync(body, bound.Token);
            if (body.Length > 0 && body[0] is MessageBitfield or MessageHave)
            {
                Assert.Equal(expectedFirstAnnouncement, body[0]);
                if (body[0] == MessageBitfield)
                {
                    Assert.Equal(manifest.PieceCount, body.Skip(1).Sum(b => System.Numerics.BitOperations.PopCount(b)));
                }

                return;
            }
        }
    }

    /// <summary>Starts a depot whose folder holds <paramref name="image"/> as disk.img (manifest created, 64 KiB pieces unless told) and waits until it seeds it.</summary>
    private async Task<ServiceInstance> StartDepotAsync(TestImage image, bool superSeed = false, int pieceSize = 64 * 1024, bool tlsSwarm = true)
    {
        string images = Directory.CreateDirectory(_dir.File("images")).FullName;
        await image.WriteFileAsync(Path.Combine(images, "disk.img"), TestContext.Current.CancellationToken);
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Depot");
        settings["BlockTorrent:Depot:ImageFolder"] = images;
        settings["BlockTorrent:Depot:PieceSize"] = pieceSize.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["BlockTorrent:Depot:SuperSeed"] = superSeed ? "true" : "false";
        settings["BlockTorrent:Depot:TlsSwarm"] = tlsSwarm ? "true" : "false";
        ServiceInstance depot = await ServiceInstance.StartAsync(_dir.Path, settings);
        await Eventually.TrueAsync(() => depot.Board.TryGetImage("disk.img", out var s) && s!.State == "seeding", Bound, "the depot seeds disk.img", TestContext.Current.CancellationToken);
        return depot;
    }

    private ServiceProcess StartTargetProcess(string image, string device, params string[] settings) =>
        ServiceProcess.Start([.. ServiceProcess.Loopback(_dir, "Target"), $"--BlockTorrent:Target:Image={image}", $"--BlockTorrent:Target:Device={_dir.File(device)}", $"--BlockTorrent:StateDirectory={_dir.File("state")}", .. settings]);

    private Task<ServiceInstance> StartTargetAsync(string image, string device, bool stopWhenDone = false)
    {
        Dictionary<string, string?> settings = ServiceInstance.Loopback("Target");
        settings["BlockTorrent:Target:Image"] = image;
        settings["BlockTorrent:Target:Device"] = _dir.File(device);
        settings["BlockTorrent:StateDirectory"] = _dir.File("state");
        if (stopWhenDone)
        {
            settings["BlockTorrent:Target:SeedAfter"] = "00:00:00";
            settings["BlockTorrent:Target:StopWhenDone"] = "true";
        }

        return ServiceInstance.StartAsync(_dir.Path, settings);
    }
}

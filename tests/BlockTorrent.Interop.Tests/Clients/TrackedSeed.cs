using System.Collections.Concurrent;
using System.Net;
using BlockTorrent.Devices;
using BlockTorrent.Discovery;
using BlockTorrent.Interop.Tests.Swarm;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Clients;

/// <summary>
/// A BlockTorrent seed of a test image held in a file (<c>image.raw</c> beside <c>image.torrent</c>), on loopback,
/// announced to an embedded tracker that the torrent names, so a client nobody here wrote finds it through the
/// tracker alone. Counts what it reads from its device and records the peers that connect to it.
/// </summary>
internal sealed class TrackedSeed : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly string _imagePath;
    private Task? _seeding;
    private Task? _watching;

    private TrackedSeed(EmbeddedTracker tracker, byte[] image, TorrentManifest manifest, string torrentPath, string imagePath)
    {
        Tracker = tracker;
        Image = image;
        Manifest = manifest;
        TorrentPath = torrentPath;
        _imagePath = imagePath;
    }

    public EmbeddedTracker Tracker { get; }

    public BlockTorrentClient? Client { get; private set; }

    public ReadCountingDevice? Device { get; private set; }

    public byte[] Image { get; }

    public TorrentManifest Manifest { get; }

    public string TorrentPath { get; }

    public ConcurrentQueue<SwarmEvent> Events { get; } = new();

    /// <summary>Gets the peers that completed a handshake with the seed.</summary>
    public IEnumerable<IPEndPoint> ConnectedPeers => Events.Where(e => e.Kind == SwarmEventKind.PeerConnected && e.Peer is not null).Select(e => e.Peer!);

    /// <summary>Starts the tracker, writes the image and its torrent into <paramref name="dir"/>, seeds it and waits until the tracker knows the seed.</summary>
    public static async Task<TrackedSeed> StartAsync(TempDirectory dir, long length, int seed, TorrentVersions versions, CancellationToken cancellationToken)
    {
        TrackedSeed prepared = await PrepareAsync(dir, length, seed, versions, cancellationToken);
        try
        {
            return await prepared.StartAsync([], cancellationToken);
        }
        catch
        {
            await prepared.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts the tracker and writes the image and its torrent into <paramref name="dir"/>; <see cref="StartAsync(IEnumerable{IPEndPoint}, CancellationToken)"/> starts seeding.</summary>
    public static async Task<TrackedSeed> PrepareAsync(TempDirectory dir, long length, int seed, TorrentVersions versions, CancellationToken cancellationToken)
    {
        var tracker = new EmbeddedTracker(new EmbeddedTrackerOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), AdvertisedHost = "127.0.0.1" });
        try
        {
            await tracker.StartAsync(cancellationToken);
            var (image, manifest, torrentPath) = await InteropImages.CreateAsync(dir, length, seed, versions, tracker.AnnounceUri.ToString());
            string imagePath = dir.File("image.raw");
            await File.WriteAllBytesAsync(imagePath, image, cancellationToken);
            return new TrackedSeed(tracker, image, manifest, torrentPath, imagePath);
        }
        catch
        {
            await tracker.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts seeding, connecting to <paramref name="peers"/> too, and waits until the tracker knows the seed.</summary>
    public async Task<TrackedSeed> StartAsync(IEnumerable<IPEndPoint> peers, CancellationToken cancellationToken)
    {
        Device = new ReadCountingDevice(FileBlockDevice.Open(_imagePath, new FileBlockDeviceOptions { ReadOnly = true }));
        Client = new BlockTorrentClient(InteropImages.Loopback(), new TestOutputLoggerFactory());
        _watching = WatchAsync(Client, Events, _stop.Token);
        var options = new SeedOptions();
        foreach (IPEndPoint peer in peers)
        {
            options.Peers.Add(peer);
        }

        _seeding = Client.SeedAsync(Manifest, Device, options, _stop.Token);
        await Eventually.TrueAsync(() => Tracker.TorrentCount == 1 || _seeding.IsCompleted, TimeSpan.FromSeconds(20), "the seed's announce to reach the tracker", cancellationToken);
        if (_seeding.IsCompleted)
        {
            await _seeding;
            throw new InvalidOperationException("The seed stopped as soon as it started.");
        }

        return this;
    }

    /// <summary>Asserts that <paramref name="downloaded"/> is the image and that the seed served at least the whole image.</summary>
    public void AssertServedABitExactCopy(string downloaded, string what)
    {
        Assert.True(File.Exists(downloaded), $"{what} wrote no {downloaded}");
        Assert.True(Image.AsSpan().SequenceEqual(File.ReadAllBytes(downloaded)), $"{what}'s copy differs from the image");
        // The seed sends zero pieces without reading them and may read a duplicated piece once for all its copies.
        long mustRead = Enumerable.Range(0, Manifest.PieceCount)
            .Where(i => !Manifest.IsZeroPiece(i) && Manifest.GetCanonicalPiece(i) == i)
            .Sum(i => (long)Manifest.GetPieceSize(i));
        Assert.True(Device!.BytesRead >= mustRead, $"the seed read only {Device.BytesRead} of the {mustRead} bytes of distinct data: {what} got its copy elsewhere");
        Assert.NotEmpty(ConnectedPeers);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (Task? task in new[] { _seeding, _watching })
        {
            if (task is not null)
            {
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task);
            }
        }

        if (Client is not null)
        {
            await Client.DisposeAsync();
        }

        if (Device is not null)
        {
            await Device.DisposeAsync();
        }

        await Tracker.DisposeAsync();
        _stop.Dispose();
    }

    private static async Task WatchAsync(BlockTorrentClient client, ConcurrentQueue<SwarmEvent> events, CancellationToken cancellationToken)
    {
        await foreach (SwarmEvent e in client.WatchEventsAsync(cancellationToken))
        {
            events.Enqueue(e);
        }
    }
}

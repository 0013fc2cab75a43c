using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using BlockTorrent.Compression;
using BlockTorrent.Devices;
using BlockTorrent.Devices.Linux;
using BlockTorrent.Manifest;

namespace BlockTorrent.Benchmarks.Swarm;

/// <summary>
/// One BlockTorrent peer as its own process, so the benchmarks measure it like a real deployment (its own GC heap,
/// its own peak RSS) and the netns swarm can run it inside a namespace:
/// <c>peer seed --torrent T --image I [--listen IP:PORT] [--super-seed] [--tls-cert C --tls-key K]</c> prints <c>{"port":N}</c> and seeds until
/// killed (either role takes <c>--congestion-control NAME</c>, <c>--queue-time SECONDS</c> and <c>--trace-ms N</c>, which prints the library's counters every N ms with the wall clock, and <c>--warm-up</c>, which images a small throwaway image in-process first); <c>peer deploy --torrent T --target F --peer IP:PORT... [--listen IP:PORT] [--seed-after 60s] [--device]</c> deploys
/// into a new sparse file (with <c>--device</c>, onto the block device F) and prints one JSON line when the image is complete (seconds, bytes, peak RSS), then keeps
/// seeding for <c>--seed-after</c>.
/// </summary>
internal static class PeerCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        var cl = new CommandLine(args);
        string role = args.Length > 0 ? args[0] : "";
        TorrentManifest manifest = await TorrentManifest.LoadAsync(cl.Text("--torrent") ?? throw new ArgumentException("--torrent is required"), CancellationToken.None).ConfigureAwait(false);
        var options = new BlockTorrentClientOptions
        {
            ListenEndPoint = IPEndPoint.Parse(cl.Text("--listen", "127.0.0.1:0")),
            EnableLocalPeerDiscovery = false,
            EnablePeerExchange = !cl.Flag("--no-pex"),
            TcpCongestionControl = cl.Text("--congestion-control"),
        };
        if (cl.Text("--tls-cert") is { } tlsCertificate)
        {
            // A TLS torrent (its manifest names a swarm authority): the certificate this peer presents.
            options.PeerCertificate = X509Certificate2.CreateFromPemFile(tlsCertificate, cl.Text("--tls-key") ?? throw new ArgumentException("--tls-key is required with --tls-cert"));
        }

        if (cl.Text("--queue-time") is { } queueTime)
        {
            options.RequestQueueTime = TimeSpan.FromSeconds(double.Parse(queueTime.TrimEnd('s'), CultureInfo.InvariantCulture));
        }

        if (cl.Flag("--warm-up"))
        {
            await WarmUpAsync(manifest, options.TcpCongestionControl).ConfigureAwait(false);
        }

        await using var client = new BlockTorrentClient(options);
        return role switch
        {
            "seed" => await SeedAsync(client, manifest, cl).ConfigureAwait(false),
            "deploy" => await DeployAsync(client, manifest, cl).ConfigureAwait(false),
            _ => throw new ArgumentException("peer seed|deploy"),
        };
    }

    /// <summary>
    /// --warm-up: before anything is measured, images a small throwaway image once inside this process (a seed and a
    /// target client on loopback, the same piece size and versions, the target a file), so the measured run executes
    /// code that has run before, as in a deployment agent that has imaged before. Without it every path is compiled
    /// on first use, and in the netns swarm nine processes do that at once on the same cores.
    /// </summary>
    private static async Task WarmUpAsync(TorrentManifest like, string? congestionControl)
    {
        byte[] image = new byte[16 * like.PieceLength];
        Random.Shared.NextBytes(image);
        TorrentManifest manifest = await ManifestBuilder.CreateAsync(new MemoryBlockDevice(image), new ManifestBuilderOptions { PieceLength = like.PieceLength, Versions = like.Versions, Name = "warm-up.raw" }).ConfigureAwait(false);
        BlockTorrentClientOptions Loopback() => new() { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), EnableLocalPeerDiscovery = false, TcpCongestionControl = congestionControl };
        await using var seed = new BlockTorrentClient(Loopback());
        await using var target = new BlockTorrentClient(Loopback());
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        Task seeding = seed.SeedAsync(manifest, new MemoryBlockDevice(image), new SeedOptions { SuperSeeding = SuperSeedMode.Always, UseManifestTrackers = false }, stop.Token);
        var options = new DeployOptions { UseManifestTrackers = false };
        options.Peers.Add(seed.LocalEndPoint);
        string path = Path.Combine(Path.GetTempPath(), $"blocktorrent-warm-up-{Environment.ProcessId}.raw");
        try
        {
            await using (var device = FileBlockDevice.Create(path, manifest.Length, new FileBlockDeviceOptions { Overwrite = true }))
            {
                await target.DeployAsync(manifest, device, options, null, stop.Token).ConfigureAwait(false);
            }
        }
        finally
        {
            File.Delete(path);
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await seeding.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopped.
            }
        }
    }

    /// <summary>Reads this process's peak resident set (VmHWM) in KiB.</summary>
    public static long PeakRssKiB(int pid = 0)
    {
        string path = pid == 0 ? "/proc/self/status" : $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status";
        foreach (string line in File.ReadLines(path))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }

        return -1;
    }

    private static async Task<int> SeedAsync(BlockTorrentClient client, TorrentManifest manifest, CommandLine cl)
    {
        await using var source = FileBlockDevice.Open(cl.Text("--image") ?? throw new ArgumentException("--image is required"), new FileBlockDeviceOptions { ReadOnly = true });
        var options = new SeedOptions { SuperSeeding = cl.Flag("--super-seed") ? SuperSeedMode.Always : cl.Flag("--adaptive-seed") ? SuperSeedMode.Adaptive : SuperSeedMode.Never, UseManifestTrackers = false };
        foreach (string peer in cl.All("--peer"))
        {
            options.Peers.Add(IPEndPoint.Parse(peer));
        }

        JsonLine.Print(w => { w.WriteNumber("port", client.LocalEndPoint.Port); });
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        Task seeding = client.SeedAsync(manifest, source, options, stop.Token);
        Task statistics = cl.Flag("--progress") ? ReportSeedAsync(stop.Token) : Task.CompletedTask;
        Task trace = TraceAsync(cl, stop.Token);
        try
        {
            await seeding.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        await stop.CancelAsync().ConfigureAwait(false);
        await statistics.ConfigureAwait(false);
        await trace.ConfigureAwait(false);
        return 0;
    }

    // The seed prints how much piece payload it has sent, once a second, from the library's own counter.
    private static async Task ReportSeedAsync(CancellationToken cancellationToken)
    {
        using var counters = new LibraryCounters();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        long last = -1;
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                long now = counters.Uploaded;
                if (now != last)
                {
                    last = now;
                    JsonLine.Print(w =>
                    {
                        w.WriteString("event", "seed");
                        w.WriteNumber("uploaded", now);
                        w.WriteNumber("peak_rss_kib", PeakRssKiB());
                        w.WriteNumber("cpu_seconds", Environment.CpuUsage.TotalTime.TotalSeconds);
                        w.WriteNumber("allocated_bytes", GC.GetTotalAllocatedBytes());
                    });
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    // --trace-ms N: the library's counters every N ms, stamped with the wall clock, so the swarm script can line up
    // every node's start (which a once-a-second report cannot resolve).
    private static async Task TraceAsync(CommandLine cl, CancellationToken cancellationToken)
    {
        if (cl.Text("--trace-ms") is not { } text)
        {
            return;
        }

        using var counters = new LibraryCounters();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(int.Parse(text, CultureInfo.InvariantCulture)));
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                JsonLine.Print(w =>
                {
                    w.WriteString("event", "trace");
                    w.WriteNumber("unix_ms", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                    w.WriteNumber("down", counters.Downloaded);
                    w.WriteNumber("up", counters.Uploaded);
                    w.WriteNumber("verified", counters.Verified);
                    w.WriteNumber("peers", counters.Peers);
                    w.WriteNumber("cpu_ms", (long)Environment.CpuUsage.TotalTime.TotalMilliseconds);
                });
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private static async Task<int> DeployAsync(BlockTorrentClient client, TorrentManifest manifest, CommandLine cl)
    {
        string targetPath = cl.Text("--target") ?? throw new ArgumentException("--target is required");
        var options = new DeployOptions { UseManifestTrackers = false };
        foreach (string peer in cl.All("--peer"))
        {
            options.Peers.Add(IPEndPoint.Parse(peer));
        }

        if (cl.Text("--seed-after") is { } seedAfter)
        {
            options.SeedAfter = TimeSpan.FromSeconds(double.Parse(seedAfter.TrimEnd('s'), CultureInfo.InvariantCulture));
        }

        // --start-at UNIX_MS: every target of a swarm starts deploying at the same moment, after its process is up.
        if (cl.Text("--start-at") is { } startAt)
        {
            TimeSpan wait = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(startAt, CultureInfo.InvariantCulture)) - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait).ConfigureAwait(false);
            }
        }

        long startUnixMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long start = Stopwatch.GetTimestamp();
        using var stop = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };

        Task trace = TraceAsync(cl, stop.Token);
        using var memory = new LibraryCounters();

        // The completion line goes out when the last piece is verified, not after --seed-after.
        Task watcher = Task.Run(async () =>
        {
            await foreach (SwarmEvent e in client.WatchEventsAsync(stop.Token).ConfigureAwait(false))
            {
                if (e.Kind == SwarmEventKind.Completed)
                {
                    double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                    JsonLine.Print(w =>
                    {
                        w.WriteString("event", "complete");
                        w.WriteNumber("seconds", seconds);
                        w.WriteNumber("start_unix_ms", startUnixMs);
                        w.WriteNumber("complete_unix_ms", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                    });
                    return;
                }
            }
        });

        long rawLength = CompressedImage.FromManifest(manifest)?.RawLength ?? manifest.Length;
        await using (IBlockDevice target = OpenTarget(cl, targetPath, rawLength))
        {
            DeploymentResult result;
            try
            {
                result = await client.DeployAsync(manifest, target, options, cl.Flag("--progress") ? new SecondProgress() : null, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                JsonLine.Print(w =>
                {
                    w.WriteString("event", "stopped");
                    w.WriteNumber("seconds", Stopwatch.GetElapsedTime(start).TotalSeconds);
                    w.WriteNumber("peak_rss_kib", PeakRssKiB());
                });
                return 6;
            }

            double total = Stopwatch.GetElapsedTime(start).TotalSeconds;
            await stop.CancelAsync().ConfigureAwait(false);
            await trace.ConfigureAwait(false);
            try
            {
                await watcher.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The watcher had already printed.
            }

            JsonLine.Print(w =>
            {
                w.WriteString("event", "result");
                w.WriteNumber("seconds", total);
                w.WriteNumber("deploy_seconds", result.Duration.TotalSeconds);
                w.WriteNumber("downloaded", result.BytesDownloaded);
                w.WriteNumber("uploaded", result.BytesUploaded);
                w.WriteNumber("satisfied_locally", result.BytesSatisfiedLocally);
                w.WriteNumber("hash_failures", result.HashFailures);
                w.WriteNumber("peak_rss_kib", PeakRssKiB());
                w.WriteNumber("peak_piece_buffer_bytes", memory.PieceBuffersPeak);
                w.WriteNumber("cpu_seconds", Environment.CpuUsage.TotalTime.TotalSeconds);
                w.WriteNumber("gc_heap_bytes", GC.GetTotalMemory(false));
                w.WriteNumber("allocated_bytes", GC.GetTotalAllocatedBytes());
                w.WriteNumber("gen0", GC.CollectionCount(0));
                w.WriteNumber("gen2", GC.CollectionCount(2));
            });
        }

        return 0;
    }

    // --device: the target path is a block device the user named (the machine benchmark passes it only with their
    // confirmation); it is opened with every safety check of LinuxBlockDevice and O_DIRECT. Otherwise a new sparse file.
    private static IBlockDevice OpenTarget(CommandLine cl, string targetPath, long length)
    {
        if (cl.Flag("--device") && OperatingSystem.IsLinux())
        {
            return LinuxBlockDevice.Open(targetPath, new LinuxBlockDeviceOptions { MinimumLength = length, RereadPartitionTableOnDispose = false });
        }

        return FileBlockDevice.Create(targetPath, length, new FileBlockDeviceOptions { Overwrite = true });
    }

    /// <summary>Prints one progress line a second (the client reports four times a second).</summary>
    private sealed class SecondProgress : IProgress<DeploymentProgress>
    {
        private int _second;

        public void Report(DeploymentProgress value)
        {
            int second = (int)value.Elapsed.TotalSeconds;
            if (second > _second)
            {
                _second = second;
                JsonLine.Print(w =>
                {
                    w.WriteString("event", "progress");
                    w.WriteNumber("t", second);
                    w.WriteNumber("down", value.BytesDownloaded);
                    w.WriteNumber("up", value.BytesUploaded);
                    w.WriteNumber("pieces", value.PiecesOnDevice);
                    w.WriteNumber("peers", value.ConnectedPeers);
                });
            }
        }
    }

    /// <summary>Sums the library's own byte, piece and peer counters for this process, and the high-water of its piece buffers.</summary>
    private sealed class LibraryCounters : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _downloaded;
        private long _uploaded;
        private long _verified;
        private long _peers;
        private long _pieceBuffers;
        private long _pieceBuffersPeak;

        public LibraryCounters()
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "BlockTorrent" && instrument.Name is "blocktorrent.bytes.downloaded" or "blocktorrent.bytes.uploaded" or "blocktorrent.pieces.verified" or "blocktorrent.peers.connected" or "blocktorrent.memory.piece_buffers")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                switch (instrument.Name)
                {
                    case "blocktorrent.bytes.downloaded": Interlocked.Add(ref _downloaded, value); break;
                    case "blocktorrent.bytes.uploaded": Interlocked.Add(ref _uploaded, value); break;
                    case "blocktorrent.pieces.verified": Interlocked.Add(ref _verified, value); break;
                    case "blocktorrent.memory.piece_buffers": RecordPieceBuffers(value); break;
                    default: Interlocked.Add(ref _peers, value); break;
                }
            });
            _listener.Start();
        }

        public long Downloaded => Interlocked.Read(ref _downloaded);

        public long Uploaded => Interlocked.Read(ref _uploaded);

        public long Verified => Interlocked.Read(ref _verified);

        public long Peers => Interlocked.Read(ref _peers);

        /// <summary>Gets the most memory the piece writers held for pieces in flight at once.</summary>
        public long PieceBuffersPeak => Interlocked.Read(ref _pieceBuffersPeak);

        public void Dispose() => _listener.Dispose();

        private void RecordPieceBuffers(long change)
        {
            long now = Interlocked.Add(ref _pieceBuffers, change);
            long peak = Interlocked.Read(ref _pieceBuffersPeak);
            while (now > peak && Interlocked.CompareExchange(ref _pieceBuffersPeak, now, peak) != peak)
            {
                peak = Interlocked.Read(ref _pieceBuffersPeak);
            }
        }
    }
}

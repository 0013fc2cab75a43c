using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using BlockTorrent.Compression;
using BlockTorrent.Manifest;

namespace BlockTorrent.Benchmarks.Swarm;

/// <summary>
/// One seeder → one downloader on loopback, each its own process, the downloader writing a new sparse image file:
/// <list type="bullet">
/// <item><c>pair-throughput [--size 1GiB] [--rounds 3] [--dir /dev/shm] [--piece-size 4MiB] [--versions hybrid|v1|v2] [--lt-preset default|high-performance]</c>:
/// BlockTorrent → BlockTorrent against libtorrent → libtorrent (python3-libtorrent 2.0.8) on the same .torrent, rounds alternating.
/// With <c>--tls</c>, each round also runs BlockTorrent → BlockTorrent over TLS (the same image with a swarm authority in its
/// manifest, each peer presenting a certificate it signed), and the summary gives what TLS costs in time and CPU.</item>
/// <item><c>half-zero [--size 1GiB] [--rounds 3]</c>: BlockTorrent on a dense image against an image of the same size that is half zeros.</item>
/// <item><c>rss [--size 1GiB --size 8GiB] [--dir /var/tmp]</c>: the downloader's peak RSS (VmHWM) for each size.</item>
/// <item><c>make-image --out DIR [--size 256MiB] [--piece-size 256KiB] [--zero-fraction 0] [--tls]</c>: DIR/image.raw and DIR/image.torrent, for the netns swarm script;
/// with <c>--tls</c> the manifest names a new swarm authority and DIR/peer.pem (key DIR/peer.key.pem) is a peer certificate it signed.</item>
/// </list>
/// Times are the downloader's own: from before it starts deploying (BlockTorrent: target file creation, writer, connect) or
/// adds the torrent (libtorrent) until every piece is verified; process start-up is excluded on both sides.
/// </summary>
internal static class PairBenchmarks
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    public static async Task<int> PairThroughputAsync(string[] args)
    {
        var cl = new CommandLine(args);
        long size = cl.Size("--size", 1L << 30);
        int rounds = cl.Int("--rounds", 3);
        using var work = new WorkDirectory(cl.Text("--dir", "/dev/shm"));
        Console.WriteLine(Header("pair-throughput", size));
        TorrentManifest manifest = await work.CreateImageAsync("image.raw", size, 0, cl).ConfigureAwait(false);
        Console.WriteLine($"image: {CommandLine.FormatSize(size)} random, {manifest.PieceCount} pieces of {CommandLine.FormatSize(manifest.PieceLength)}, {manifest.Versions}");
        var bt = new List<double>();
        var lt = new List<double>();
        var tls = new List<PairRun>();
        var plain = new List<PairRun>();
        TlsPair? tlsPair = cl.Flag("--tls") ? await work.CreateTlsTorrentAsync("image.raw", cl).ConfigureAwait(false) : null;
        for (int round = 1; round <= rounds; round++)
        {
            // Alternate which goes first, so a slow moment of the shared machine does not always hit the same one.
            PairRun a, b;
            if (round % 2 == 1)
            {
                a = await work.BlockTorrentPairAsync(manifest, "image.raw").ConfigureAwait(false);
                b = await work.LibtorrentPairAsync("image.raw", cl.Text("--lt-preset", "default")).ConfigureAwait(false);
            }
            else
            {
                b = await work.LibtorrentPairAsync("image.raw", cl.Text("--lt-preset", "default")).ConfigureAwait(false);
                a = await work.BlockTorrentPairAsync(manifest, "image.raw").ConfigureAwait(false);
            }

            bt.Add(a.Seconds);
            lt.Add(b.Seconds);
            if (tlsPair is not null)
            {
                PairRun t = await work.BlockTorrentPairAsync(tlsPair.Manifest, "image.raw", tlsPair).ConfigureAwait(false);
                tls.Add(t);
                plain.Add(a);
                Console.WriteLine($"round {round}: BlockTorrent over TLS {t.Seconds,6:F2} s ({Rate(size, t.Seconds)}; CPU s downloader {t.DownloaderCpu:F1} seeder {t.SeederCpu:F1}; peak RSS {t.DownloaderRssKiB / 1024}/{t.SeederRssKiB / 1024} MiB; allocated {t.DownloaderAllocated / 1e6:F0} MB)");
            }

            Console.WriteLine($"round {round}: BlockTorrent {a.Seconds,6:F2} s ({Rate(size, a.Seconds)}; CPU s downloader {a.DownloaderCpu:F1} seeder {a.SeederCpu:F1}; peak RSS {a.DownloaderRssKiB / 1024}/{a.SeederRssKiB / 1024} MiB; allocated {a.DownloaderAllocated / 1e6:F0} MB)   libtorrent {b.Seconds,6:F2} s ({Rate(size, b.Seconds)}; CPU s {b.DownloaderCpu:F1}/{b.SeederCpu:F1}; peak RSS {b.DownloaderRssKiB / 1024}/{b.SeederRssKiB / 1024} MiB)");
        }

        double btMedian = Median(bt), ltMedian = Median(lt);
        Console.WriteLine($"median: BlockTorrent {btMedian:F2} s ({Rate(size, btMedian)}), libtorrent {ltMedian:F2} s ({Rate(size, ltMedian)}); BlockTorrent/libtorrent time = {btMedian / ltMedian:F2} (goal <= 1.00); load {LoadAverage()}");
        if (tlsPair is not null)
        {
            double tlsMedian = Median([.. tls.Select(r => r.Seconds)]);
            double cpuPlain = Median([.. plain.Select(r => r.DownloaderCpu + r.SeederCpu)]), cpuTls = Median([.. tls.Select(r => r.DownloaderCpu + r.SeederCpu)]);
            Console.WriteLine($"TLS: BlockTorrent over TLS {tlsMedian:F2} s ({Rate(size, tlsMedian)}) against plain {btMedian:F2} s: time x{tlsMedian / btMedian:F2}; CPU s (both peers) {cpuTls:F1} against {cpuPlain:F1} (+{(cpuTls - cpuPlain) / (size / 1e9):F2} s per GB)");
        }

        return 0;
    }

    public static async Task<int> HalfZeroAsync(string[] args)
    {
        var cl = new CommandLine(args);
        long size = cl.Size("--size", 1L << 30);
        int rounds = cl.Int("--rounds", 3);
        using var work = new WorkDirectory(cl.Text("--dir", "/dev/shm"));
        Console.WriteLine(Header("half-zero", size));
        TorrentManifest dense = await work.CreateImageAsync("dense.raw", size, 0, cl).ConfigureAwait(false);
        TorrentManifest sparse = await work.CreateImageAsync("half-zero.raw", size, 0.5, cl).ConfigureAwait(false);
        Console.WriteLine($"images: {CommandLine.FormatSize(size)} dense and half-zero ({sparse.ZeroPieceCount} of {sparse.PieceCount} pieces all-zero), pieces of {CommandLine.FormatSize(dense.PieceLength)}");
        var d = new List<double>();
        var h = new List<double>();
        for (int round = 1; round <= rounds; round++)
        {
            PairRun a = await work.BlockTorrentPairAsync(dense, "dense.raw").ConfigureAwait(false);
            PairRun b = await work.BlockTorrentPairAsync(sparse, "half-zero.raw").ConfigureAwait(false);
            d.Add(a.Seconds);
            h.Add(b.Seconds);
            Console.WriteLine($"round {round}: dense {a.Seconds,6:F2} s   half-zero {b.Seconds,6:F2} s ({b.Seconds / a.Seconds:F2} of dense)");
        }

        Console.WriteLine($"median: dense {Median(d):F2} s, half-zero {Median(h):F2} s = {Median(h) / Median(d):F2} of dense (goal <= 0.60); load {LoadAverage()}");
        return 0;
    }

    public static async Task<int> RssAsync(string[] args)
    {
        var cl = new CommandLine(args);
        IReadOnlyList<string> sizes = cl.All("--size");
        if (sizes.Count == 0)
        {
            sizes = ["1GiB", "8GiB"];
        }

        using var work = new WorkDirectory(cl.Text("--dir", "/var/tmp"));
        Console.WriteLine(Header("rss", 0));
        var peaks = new List<long>();
        var rest = new List<double>();
        foreach (string text in sizes)
        {
            long size = CommandLine.ParseSize(text);
            string name = $"image-{text}.raw";
            TorrentManifest manifest = await work.CreateImageAsync(name, size, 0, cl).ConfigureAwait(false);
            PairRun run = await work.BlockTorrentPairAsync(manifest, name).ConfigureAwait(false);
            work.Delete(name);
            peaks.Add(run.DownloaderRssKiB);
            double buffers = run.DownloaderPieceBuffers / 1048576.0;
            rest.Add((run.DownloaderRssKiB / 1024.0) - buffers);

            // The piece buffers are allocated on demand up to the writer's in-flight budget (DownloadMemory), so how
            // much of the budget a run reaches depends on how long the device fell behind the network; the rest is
            // what the image size could make grow.
            Console.WriteLine($"{CommandLine.FormatSize(size)} ({manifest.PieceCount} pieces of {CommandLine.FormatSize(manifest.PieceLength)}): {run.Seconds:F2} s, downloader peak RSS {run.DownloaderRssKiB / 1024.0:F0} MiB (goal <= 150 MiB; piece buffers at most {buffers:F0} MiB of it, the rest {rest[^1]:F0} MiB; allocated {run.DownloaderAllocated / 1e6:F0} MB), seeder peak RSS {run.SeederRssKiB / 1024.0:F0} MiB");
        }

        Console.WriteLine($"largest downloader peak RSS {peaks.Max() / 1024.0:F0} MiB, spread across sizes {(peaks.Max() - peaks.Min()) / 1024.0:F0} MiB, of the rest {rest.Max() - rest.Min():F0} MiB; load {LoadAverage()}");
        return 0;
    }

    public static async Task<int> MakeImageAsync(string[] args)
    {
        var cl = new CommandLine(args);
        string directory = cl.Text("--out") ?? throw new ArgumentException("--out is required");
        Directory.CreateDirectory(directory);
        string image = Path.Combine(directory, "image.raw");
        long size = cl.Size("--size", 256L << 20);
        if (cl.Flag("--compressible"))
        {
            // Text, binary records, random bytes and zero runs: about 3:1 with zstd, as real images.
            await File.WriteAllBytesAsync(image, Testing.CompressibleImage.Create(checked((int)size), seed: 42)).ConfigureAwait(false);
        }
        else
        {
            WorkDirectory.WriteImage(image, size, cl.Double("--zero-fraction", 0));
        }

        ManifestBuilderOptions options = WorkDirectory.BuilderOptions(cl);
        using X509Certificate2? authority = cl.Flag("--tls") ? SwarmCertificates.CreateAuthority("swarm benchmark", TimeSpan.FromDays(1)) : null;
        if (authority is not null)
        {
            // --tls: a TLS swarm; every peer presents DIR/peer.pem (key DIR/peer.key.pem), signed by the authority.
            options.SwarmAuthority = authority;
            await WorkDirectory.WritePeerCertificateAsync(authority, Path.Combine(directory, "peer.pem"), Path.Combine(directory, "peer.key.pem")).ConfigureAwait(false);
        }

        // --compress: the torrent describes image.raw.btz, a seekable compressed image (docs/COMPRESSED-IMAGES.md).
        TorrentManifest manifest = cl.Flag("--compress")
            ? await CompressedImageBuilder.CreateAsync(image, Path.Combine(directory, "image.raw.btz"), null, options).ConfigureAwait(false)
            : await ManifestBuilder.CreateAsync(image, options).ConfigureAwait(false);
        await manifest.SaveAsync(Path.Combine(directory, "image.torrent"), CancellationToken.None).ConfigureAwait(false);
        Console.WriteLine($"{image}: {manifest.PieceCount} pieces of {CommandLine.FormatSize(manifest.PieceLength)}, {manifest.Versions}, {manifest.Length} bytes on the wire");
        return 0;
    }

    internal static string LoadAverage() => File.ReadAllText("/proc/loadavg").Trim();

    private static string Header(string name, long size) =>
        $"{name}: {Environment.ProcessorCount} cores, load {LoadAverage()}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(size > 0 ? ", " + CommandLine.FormatSize(size) : "")}";

    private static string Rate(long bytes, double seconds) => $"{bytes / seconds / 1e6:F0} MB/s";

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    /// <summary>The TLS variant of an image: its manifest with a swarm authority, and a peer certificate both ends present.</summary>
    internal sealed record TlsPair(TorrentManifest Manifest, string Torrent, string Certificate, string Key);

    internal readonly record struct PairRun(double Seconds, long DownloaderRssKiB, long SeederRssKiB, double DownloaderCpu, double SeederCpu, long DownloaderAllocated = -1, long DownloaderPieceBuffers = -1);

    /// <summary>A scratch directory for images, torrents and targets, deleted at the end.</summary>
    internal sealed class WorkDirectory : IDisposable
    {
        private readonly string _path;

        public WorkDirectory(string root)
        {
            _path = Path.Combine(root, "blocktorrent-pair-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(Path.Combine(_path, "seed"));
        }

        public static ManifestBuilderOptions BuilderOptions(CommandLine cl) => new()
        {
            PieceLength = cl.Text("--piece-size") is { } p ? (int)CommandLine.ParseSize(p) : 0,
            Versions = cl.Text("--versions", "hybrid") switch
            {
                "v1" => TorrentVersions.V1,
                "v2" => TorrentVersions.V2,
                _ => TorrentVersions.Hybrid,
            },
        };

        /// <summary>Writes random data with runs of zero pieces covering about <paramref name="zeroFraction"/> of the image.</summary>
        public static void WriteImage(string path, long length, double zeroFraction)
        {
            const int Chunk = 4 << 20;
            var random = new Random(42);
            var layout = new Random(7);
            byte[] data = new byte[Chunk];
            byte[] zeros = new byte[Chunk];
            using var file = new FileStream(path, FileMode.Create, FileAccess.Write);
            bool zero = false;
            int run = 0;
            for (long written = 0; written < length; written += Chunk)
            {
                if (run == 0)
                {
                    // Alternating runs of 1..8 chunks; zero runs are as long as data runs on average when the fraction is 1/2.
                    zero = zeroFraction > 0 && layout.NextDouble() < zeroFraction;
                    run = layout.Next(1, 9);
                }

                run--;
                int count = (int)Math.Min(Chunk, length - written);
                if (zero)
                {
                    file.Write(zeros, 0, count);
                }
                else
                {
                    random.NextBytes(data);
                    file.Write(data, 0, count);
                }
            }
        }

        public async Task<TorrentManifest> CreateImageAsync(string name, long size, double zeroFraction, CommandLine cl)
        {
            string image = Path.Combine(_path, "seed", name);
            WriteImage(image, size, zeroFraction);
            TorrentManifest manifest = await ManifestBuilder.CreateAsync(image, BuilderOptions(cl)).ConfigureAwait(false);
            await manifest.SaveAsync(TorrentPath(name), CancellationToken.None).ConfigureAwait(false);
            return manifest;
        }

        /// <summary>The path of an image made by <see cref="CreateImageAsync"/>.</summary>
        public string ImagePath(string name) => Path.Combine(_path, "seed", name);

        /// <summary>The path of a scratch file in this directory (deleted with it).</summary>
        public string FilePath(string name) => Path.Combine(_path, name);

        public void Delete(string name)
        {
            File.Delete(Path.Combine(_path, "seed", name));
        }

        /// <summary>Makes the TLS variant of an image made by <see cref="CreateImageAsync"/>: a swarm authority, its manifest, a peer certificate.</summary>
        public async Task<TlsPair> CreateTlsTorrentAsync(string name, CommandLine cl)
        {
            using X509Certificate2 authority = SwarmCertificates.CreateAuthority("pair benchmark", TimeSpan.FromDays(1));
            string certificate = Path.Combine(_path, "peer.pem"), key = Path.Combine(_path, "peer.key.pem");
            await WritePeerCertificateAsync(authority, certificate, key).ConfigureAwait(false);

            ManifestBuilderOptions options = BuilderOptions(cl);
            options.SwarmAuthority = authority;
            TorrentManifest manifest = await ManifestBuilder.CreateAsync(Path.Combine(_path, "seed", name), options).ConfigureAwait(false);
            string torrent = Path.Combine(_path, name + ".tls.torrent");
            await manifest.SaveAsync(torrent, CancellationToken.None).ConfigureAwait(false);
            return new TlsPair(manifest, torrent, certificate, key);
        }

        /// <summary>Issues a peer certificate for every torrent of <paramref name="authority"/> and writes it and its key as PEM.</summary>
        public static async Task WritePeerCertificateAsync(X509Certificate2 authority, string certificatePath, string keyPath)
        {
            using X509Certificate2 peer = SwarmCertificates.Issue(authority, SwarmCertificates.AnyTorrent, TimeSpan.FromDays(1));
            using ECDsa key = peer.GetECDsaPrivateKey()!;
            await File.WriteAllTextAsync(certificatePath, peer.ExportCertificatePem()).ConfigureAwait(false);
            await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem()).ConfigureAwait(false);
        }

        /// <summary>
        /// Deploys <paramref name="name"/> from a seed process to a downloader process on loopback, into a new file here or,
        /// with <paramref name="device"/>, onto that block device (which is written, checked and left as it is).
        /// </summary>
        public async Task<PairRun> BlockTorrentPairAsync(TorrentManifest manifest, string name, TlsPair? tls = null, string? device = null)
        {
            string target = device ?? Path.Combine(_path, "bt-target.raw");
            string torrent = tls?.Torrent ?? TorrentPath(name);
            string[] certificate = tls is null ? [] : ["--tls-cert", tls.Certificate, "--tls-key", tls.Key];
            using (ChildProcess seed = ChildProcess.StartSelf("BlockTorrent seed", ["peer", "seed", "--torrent", torrent, "--image", Path.Combine(_path, "seed", name), .. certificate]))
            {
                int port = (await seed.WaitForAsync("port", Timeout).ConfigureAwait(false)).GetProperty("port").GetInt32();
                using ChildProcess deploy = ChildProcess.StartSelf("BlockTorrent deploy", ["peer", "deploy", "--torrent", torrent, "--target", target, "--peer", $"127.0.0.1:{port}", .. certificate, .. (device is null ? Array.Empty<string>() : ["--device"])]);
                JsonElement result = await deploy.WaitForEventAsync("result", Timeout).ConfigureAwait(false);
                long seederRss = seed.PeakRssKiB();
                double seederCpu = seed.CpuSeconds();
                if (result.GetProperty("hash_failures").GetInt32() != 0)
                {
                    throw new InvalidOperationException("The BlockTorrent downloader saw hash failures.");
                }

                await VerifySameAsync(Path.Combine(_path, "seed", name), target, manifest.Length).ConfigureAwait(false);
                if (device is null)
                {
                    File.Delete(target);
                }

                return new PairRun(result.GetProperty("seconds").GetDouble(), result.GetProperty("peak_rss_kib").GetInt64(), seederRss, result.GetProperty("cpu_seconds").GetDouble(), seederCpu, result.GetProperty("allocated_bytes").GetInt64(), result.GetProperty("peak_piece_buffer_bytes").GetInt64());
            }
        }

        public async Task<PairRun> LibtorrentPairAsync(string name, string preset)
        {
            string script = FindScript("scripts/lt_peer.py");
            string targetDirectory = Path.Combine(_path, "lt-target");
            Directory.CreateDirectory(targetDirectory);
            try
            {
                using ChildProcess seed = ChildProcess.Start("libtorrent seed", "/usr/bin/python3", [script, "seed", "--torrent", TorrentPath(name), "--dir", Path.Combine(_path, "seed"), "--preset", preset]);
                int port = (await seed.WaitForAsync("port", Timeout).ConfigureAwait(false)).GetProperty("port").GetInt32();
                using ChildProcess download = ChildProcess.Start("libtorrent download", "/usr/bin/python3", [script, "download", "--torrent", TorrentPath(name), "--dir", targetDirectory, "--peer", $"127.0.0.1:{port}", "--preset", preset]);
                JsonElement result = await download.WaitForEventAsync("result", Timeout).ConfigureAwait(false);
                long seederRss = seed.PeakRssKiB();
                double seederCpu = seed.CpuSeconds();
                return new PairRun(result.GetProperty("seconds").GetDouble(), result.GetProperty("peak_rss_kib").GetInt64(), seederRss, result.GetProperty("cpu_seconds").GetDouble(), seederCpu);
            }
            finally
            {
                Directory.Delete(targetDirectory, recursive: true);
            }
        }

        public void Dispose() => Directory.Delete(_path, recursive: true);

        private string TorrentPath(string name) => Path.Combine(_path, name + ".torrent");

        /// <summary>Finds <c>benchmarks/PATH</c> (<c>scripts/lt_peer.py</c>, <c>swarm/netns-swarm.sh</c>) above the executable's folder.</summary>
        public static string FindScript(string name)
        {
            for (DirectoryInfo? d = new(AppContext.BaseDirectory); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, "benchmarks", name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new FileNotFoundException($"benchmarks/{name} not found above {AppContext.BaseDirectory}.");
        }

        private static async Task VerifySameAsync(string expectedPath, string actualPath, long length)
        {
            await using var expected = new FileStream(expectedPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            await using var actual = new FileStream(actualPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
            byte[] a = new byte[8 << 20], b = new byte[8 << 20];
            for (long offset = 0; offset < length; offset += a.Length)
            {
                int count = (int)Math.Min(a.Length, length - offset);
                await expected.ReadExactlyAsync(a.AsMemory(0, count)).ConfigureAwait(false);
                await actual.ReadExactlyAsync(b.AsMemory(0, count)).ConfigureAwait(false);
                if (!a.AsSpan(0, count).SequenceEqual(b.AsSpan(0, count)))
                {
                    throw new InvalidOperationException($"The deployed image differs from the source near offset {offset}.");
                }
            }
        }
    }
}

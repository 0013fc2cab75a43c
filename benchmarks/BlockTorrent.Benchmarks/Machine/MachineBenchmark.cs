using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.Versioning;
using BlockTorrent.Benchmarks.Devices;
using BlockTorrent.Benchmarks.Swarm;
using BlockTorrent.Devices;
using BlockTorrent.Devices.Linux;
using BlockTorrent.Manifest;
using BlockTorrent.Writing;
using Microsoft.Win32.SafeHandles;

namespace BlockTorrent.Benchmarks.Machine;

/// <summary>
/// What a user runs on new hardware: this machine's limits (hashing on one core and on all, the target's sequential
/// write rate with O_DIRECT against <c>dd oflag=direct</c>, loopback TCP), then the writer, a seed → target pair on
/// loopback, libtorrent's pair where it is installed and, as root, a small network-namespace swarm, each next to the
/// limit it is held against. Prints a table, and with <c>--json FILE</c> writes the figures for tools.
/// </summary>
/// <remarks>
/// <para>
/// Run: <c>dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- machine [--size 256MiB] [--dir /var/tmp]
/// [--device /dev/X --yes-erase-device] [--json FILE] [--svg FILE] [--swarm-targets 4] [--swarm-rate 100] [--swarm-size 64MiB] [--no-swarm]</c>.
/// </para>
/// <para>
/// The target is a temp file in <c>--dir</c> unless the user names a block device and confirms with
/// <c>--yes-erase-device</c>: its first <c>--size</c> bytes are then overwritten by dd, the O_DIRECT copy, the writer and
/// the pair, and LinuxBlockDevice's safety checks (mounted, holding the root file system, busy) apply to every open.
/// </para>
/// </remarks>
[SupportedOSPlatform("linux")]
internal static class MachineBenchmark
{
    private const int Chunk = 4 << 20;

    public static async Task<int> RunAsync(string[] args)
    {
        var cl = new Swarm.CommandLine(args);
        long size = cl.Size("--size", 256L << 20);
        string root = cl.Text("--dir", "/var/tmp");
        string? device = cl.Text("--device");
        if (device is not null && !cl.Flag("--yes-erase-device"))
        {
            await Console.Error.WriteLineAsync($"machine: --device {device} would have its first {Swarm.CommandLine.FormatSize(size)} overwritten. Add --yes-erase-device to confirm, or leave --device out to measure a temp file in --dir.").ConfigureAwait(false);
            return 2;
        }

        if (size < Chunk || size % (1 << 20) != 0)
        {
            await Console.Error.WriteLineAsync("machine: --size must be a whole number of MiB, at least 4 MiB.").ConfigureAwait(false);
            return 2;
        }

        var report = new MachineReport();
        report.Describe("date", DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture));
        report.Describe("cores", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture));
        report.Describe("load", PairBenchmarks.LoadAverage());
        report.Describe("target", device ?? $"a temp file in {root}");
        using var work = new PairBenchmarks.WorkDirectory(root);
        TorrentManifest manifest = await work.CreateImageAsync("image.raw", size, 0, cl).ConfigureAwait(false);
        string image = work.ImagePath("image.raw");
        string target = device ?? work.FilePath("target.raw");
        report.Describe("image", $"{Swarm.CommandLine.FormatSize(size)} random, {manifest.PieceCount} pieces of {Swarm.CommandLine.FormatSize(manifest.PieceLength)}, {manifest.Versions}");
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load {PairBenchmarks.LoadAverage()}; image {Swarm.CommandLine.FormatSize(size)} ({manifest.PieceCount} pieces of {Swarm.CommandLine.FormatSize(manifest.PieceLength)}, {manifest.Versions}); target {device ?? target}");

        Console.WriteLine("limits:");
        MeasureHashing(report, manifest.PieceLength, Math.Max(size, 64L << 20));
        await MeasureDeviceAsync(report, image, target, size, device is not null).ConfigureAwait(false);
        report.Add(new("tcp_loopback", "one TCP connection on 127.0.0.1, 1 MiB sends", await LoopbackTcpAsync(Math.Max(4 * size, 256L << 20)).ConfigureAwait(false), "MB/s"));

        // The writer and the pair verify every piece with the hash the manifest's version calls for: a v2 or hybrid
        // manifest's SHA-256 merkle root, a v1 manifest's SHA-1.
        string hash = manifest.Versions == TorrentVersions.V1 ? "sha1_all_cores" : "sha256_all_cores";
        double device_ = report.Value("dd_write_direct");
        Console.WriteLine("BlockTorrent:");
        double writer = await MeasureWriterAsync(manifest, image, target, device is not null).ConfigureAwait(false);
        report.Add(new("writer", "PieceWriter: verify every piece, write at its offset, final flush", writer, "MB/s", $"min(dd_write_direct, {hash})", Math.Min(device_, report.Value(hash))));

        double tcp = report.Value("tcp_loopback");
        double pairLimit = Math.Min(Math.Min(tcp, device_), report.Value(hash));
        string pairLimitName = $"min(tcp_loopback, dd_write_direct, {hash})";
        PairBenchmarks.PairRun pair = await work.BlockTorrentPairAsync(manifest, "image.raw", device: device).ConfigureAwait(false);
        report.Add(new("pair", "seed process -> target process on loopback, to the target", size / pair.Seconds / 1e6, "MB/s", pairLimitName, pairLimit));
        if (await LibtorrentInstalledAsync().ConfigureAwait(false))
        {
            PairBenchmarks.PairRun lt = await work.LibtorrentPairAsync("image.raw", "default").ConfigureAwait(false);
            report.Add(new("libtorrent_pair", "libtorrent 2 seed -> libtorrent download on loopback, to a file in --dir (the same .torrent; its time ends at the last piece verified, with no flush to disk)", size / lt.Seconds / 1e6, "MB/s", pairLimitName, pairLimit));
        }
        else
        {
            report.Skip("libtorrent_pair", "python3-libtorrent is not installed for /usr/bin/python3 (apt-get install python3-libtorrent)");
        }

        int status = await NamespaceSwarm.RunAsync(report, cl, work.FilePath("swarm-logs")).ConfigureAwait(false);
        report.PrintTable(Console.Out);
        if (cl.Text("--json") is { } json)
        {
            await using FileStream stream = File.Create(json);
            report.WriteJson(stream);
            Console.WriteLine($"JSON: {json}");
        }

        return status;
    }

    // SHA-1 and the SHA-256 merkle root of whole pieces, as the writer verifies them, on one thread and on one thread
    // per core at once (each its own 16 MiB of random data, larger than the caches, as pieces arriving from the network are).
    private static void MeasureHashing(MachineReport report, int pieceLength, long bytesPerThread)
    {
        int cores = Environment.ProcessorCount;
        int leaves = Math.Max(1, pieceLength / (16 << 10));
        Action<ReadOnlySpan<byte>> sha1 = piece => PieceHasher.ForCurrentThread.ComputeSha1(piece, stackalloc byte[20]);
        Action<ReadOnlySpan<byte>> sha256 = piece => PieceHasher.ForCurrentThread.ComputeRoot(piece, leaves, stackalloc byte[32]);
        double sha1One = HashRate(1, pieceLength, bytesPerThread, sha1);
        double sha256One = HashRate(1, pieceLength, bytesPerThread, sha256);
        report.Add(new("sha1_one_core", "SHA-1 of whole pieces, one thread", sha1One, "MB/s"));
        report.Add(new("sha256_one_core", "SHA-256 merkle root of whole pieces (BEP 52), one thread", sha256One, "MB/s"));
        report.Add(new("sha1_all_cores", $"SHA-1, {cores} threads at once", HashRate(cores, pieceLength, bytesPerThread, sha1), "MB/s", "cores x sha1_one_core", cores * sha1One));
        report.Add(new("sha256_all_cores", $"SHA-256 merkle root, {cores} threads at once", HashRate(cores, pieceLength, bytesPerThread, sha256), "MB/s", "cores x sha256_one_core", cores * sha256One));
    }

    private static double HashRate(int threads, int pieceLength, long bytesPerThread, Action<ReadOnlySpan<byte>> hash)
    {
        int bufferLength = Math.Max(pieceLength, 16 << 20) / pieceLength * pieceLength;
        long pieces = Math.Max(1, bytesPerThread / pieceLength);
        byte[][] buffers = [.. Enumerable.Range(0, threads).Select(i =>
        {
            byte[] data = GC.AllocateUninitializedArray<byte>(bufferLength);
            new Random(i).NextBytes(data);
            hash(data.AsSpan(0, pieceLength));
            return data;
        })];
        using var start = new Barrier(threads + 1);
        var workers = new Thread[threads];
        for (int t = 0; t < threads; t++)
        {
            byte[] data = buffers[t];
            workers[t] = new Thread(() =>
            {
                start.SignalAndWait();
                for (long p = 0, offset = 0; p < pieces; p++, offset = (offset + pieceLength) % bufferLength)
                {
                    hash(data.AsSpan((int)offset, pieceLength));
                }
            });
            workers[t].Start();
        }

        start.SignalAndWait();
        long begin = Stopwatch.GetTimestamp();
        foreach (Thread worker in workers)
        {
            worker.Join();
        }

        return threads * pieces * (double)pieceLength / Stopwatch.GetElapsedTime(begin).TotalSeconds / 1e6;
    }

    // The target's sequential write rate: 4 MiB writes from aligned memory with O_DIRECT and an fsync at the end, our
    // way and dd's (conv=fsync, since the writer's time too ends with the image durable), twice each, alternating; the
    // better round of each counts, as a limit is the most the machine does.
    private static async Task MeasureDeviceAsync(MachineReport report, string image, string target, long size, bool isDevice)
    {
        double ours = 0, dd = 0;
        for (int round = 0; round < 2; round++)
        {
            ours = Math.Max(ours, size / await LoopDeviceThroughput.TimeAsync(() => WriteDirectAsync(image, target, size, isDevice)).ConfigureAwait(false) / 1e6);
            dd = Math.Max(dd, size / await LoopDeviceThroughput.TimeAsync(() => LoopDeviceThroughput.RunProgramAsync("dd", $"if={image}", $"of={target}", "bs=4M", $"count={size}", "iflag=count_bytes", "oflag=direct", "conv=fsync,notrunc", "status=none")).ConfigureAwait(false) / 1e6);
        }

        report.Add(new("dd_write_direct", "dd bs=4M oflag=direct conv=fsync from the page cache to the target", dd, "MB/s"));
        report.Add(new("device_write_direct", isDevice ? "LinuxBlockDevice (O_DIRECT): 4 MiB writes, then flush" : "the temp file with O_DIRECT: 4 MiB writes, then fsync", ours, "MB/s", "dd_write_direct", dd));
    }

    private static async Task WriteDirectAsync(string image, string target, long size, bool isDevice)
    {
        using SafeFileHandle source = File.OpenHandle(image);
        using var buffer = new BlockTorrent.Buffers.AlignedBuffer(Chunk);
        if (isDevice)
        {
            await using var device = LinuxBlockDevice.Open(target, new LinuxBlockDeviceOptions { MinimumLength = size, RereadPartitionTableOnDispose = false });
            for (long offset = 0; offset < size; offset += Chunk)
            {
                int count = RandomAccess.Read(source, buffer.Memory.Span, offset);
                await device.WriteAsync(offset, buffer.Memory[..count]).ConfigureAwait(false);
            }

            await device.FlushAsync().ConfigureAwait(false);
            return;
        }

        using SafeFileHandle file = DirectFile.Create(target);
        for (long offset = 0; offset < size; offset += Chunk)
        {
            int count = RandomAccess.Read(source, buffer.Memory.Span, offset);
            await RandomAccess.WriteAsync(file, buffer.Memory[..count], offset).ConfigureAwait(false);
        }

        DirectFile.Sync(file, target);
    }

    private static async Task<double> LoopbackTcpAsync(long bytes)
    {
        double best = 0;
        for (int round = 0; round < 2; round++)
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(listener.LocalEndPoint!).ConfigureAwait(false);
            using Socket server = await listener.AcceptAsync().ConfigureAwait(false);
            byte[] send = new byte[1 << 20];
            byte[] receive = new byte[1 << 20];
            Random.Shared.NextBytes(send);
            long begin = Stopwatch.GetTimestamp();
            Task sending = Task.Run(async () =>
            {
                for (long sent = 0; sent < bytes; sent += send.Length)
                {
                    await client.SendAsync(send.AsMemory(0, (int)Math.Min(send.Length, bytes - sent))).ConfigureAwait(false);
                }

                client.Shutdown(SocketShutdown.Send);
            });
            long received = 0;
            for (int n; (n = await server.ReceiveAsync(receive).ConfigureAwait(false)) > 0;)
            {
                received += n;
            }

            await sending.ConfigureAwait(false);
            if (received != bytes)
            {
                throw new InvalidOperationException($"Loopback TCP received {received} of {bytes} bytes.");
            }

            best = Math.Max(best, bytes / Stopwatch.GetElapsedTime(begin).TotalSeconds / 1e6);
        }

        return best;
    }

    // One untimed deployment first (the JIT compiles and tiers up the writer's code), then the timed one: opening the
    // target, verifying and writing every piece in order, and the final flush.
    private static async Task<double> MeasureWriterAsync(TorrentManifest manifest, string image, string target, bool isDevice)
    {
        double seconds = 0;
        for (int round = 0; round < 2; round++)
        {
            long start = Stopwatch.GetTimestamp();
            await using IBlockDevice device = isDevice
                ? LinuxBlockDevice.Open(target, new LinuxBlockDeviceOptions { MinimumLength = manifest.Length, RereadPartitionTableOnDispose = false })
                : FileBlockDevice.Create(target, manifest.Length, new FileBlockDeviceOptions { Overwrite = true });
            await LoopDeviceThroughput.DeployAsync(manifest, image, device, shuffled: false, PieceWriterOptions.Default, start).ConfigureAwait(false);
            seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        return manifest.Length / seconds / 1e6;
    }

    private static async Task<bool> LibtorrentInstalledAsync()
    {
        if (!File.Exists("/usr/bin/python3"))
        {
            return false;
        }

        using var process = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", "import libtorrent"]) { RedirectStandardError = true })!;
        await process.StandardError.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        return process.ExitCode == 0;
    }
}

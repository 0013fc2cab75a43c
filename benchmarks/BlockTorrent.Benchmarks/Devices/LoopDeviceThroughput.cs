using System.Diagnostics;
using System.Globalization;
using System.Runtime.Versioning;
using BlockTorrent.Devices.Linux;
using BlockTorrent.Manifest;
using BlockTorrent.Writing;
using Microsoft.Win32.SafeHandles;
using static BlockTorrent.Benchmarks.BenchmarkSupport;

namespace BlockTorrent.Benchmarks.Devices;

/// <summary>
/// Writer → loop device throughput against <c>dd if=IMAGE of=/dev/loopN bs=4M oflag=direct</c> to the same device,
/// in the same run, rounds alternating so that both see the same machine. Needs root and losetup.
/// </summary>
/// <remarks>
/// <para>
/// Run: <c>dotnet run -c Release --project benchmarks/BlockTorrent.Benchmarks -- loop-throughput [--size-mib 1024]
/// [--piece-kib 4096] [--rounds 3] [--dir /dev/shm] [--versions hybrid|v1|v2] [--order sequential|shuffled] [--loop-direct-io on|off] [--throttle-mbps N] [--flush-mib N] [--in-flight-mib N] [--verifiers N] [--writer-only]</c>.
/// </para>
/// <para>
/// The image is incompressible random data (no zero or duplicate pieces, so the writer must write every byte as dd
/// does) in <c>--dir</c>, read from the page cache by both. The loop device's backing file is in <c>--dir</c> too:
/// /dev/shm (tmpfs, the default) measures the software path; a directory on a disk adds that disk. The writer's time
/// covers opening the device, verifying every piece (the manifest's hashes), writing it and the final fsync, after one
/// untimed warm-up deployment (JIT). Both read the image from the page cache; "dd+fsync" (<c>conv=fsync</c>) is the
/// like-for-like baseline, since the writer's figure ends with the data durable on the device. Every round checks the
/// device against the image after the LinuxBlockDevice copy and after the writer.
/// </para>
/// </remarks>
[SupportedOSPlatform("linux")]
internal static class LoopDeviceThroughput
{
    public static async Task<int> RunAsync(string[] args)
    {
        long sizeMiB = Option(args, "--size-mib", 1024);
        int pieceKiB = (int)Option(args, "--piece-kib", 4096);
        int rounds = (int)Option(args, "--rounds", 3);
        string root = OptionText(args, "--dir", "/dev/shm");
        var versions = OptionText(args, "--versions", "hybrid") switch
        {
            "v1" => TorrentVersions.V1,
            "v2" => TorrentVersions.V2,
            _ => TorrentVersions.Hybrid,
        };
        bool shuffled = OptionText(args, "--order", "sequential") == "shuffled";
        bool loopDirectIO = OptionText(args, "--loop-direct-io", "off") == "on";
        long throttleMBps = Option(args, "--throttle-mbps", 0);
        bool writerOnly = args.Contains("--writer-only");
        var writerOptions = new PieceWriterOptions
        {
            FlushIntervalBytes = Option(args, "--flush-mib", PieceWriterOptions.Default.FlushIntervalBytes >> 20) << 20,
            MaxInFlightBytes = Option(args, "--in-flight-mib", PieceWriterOptions.Default.MaxInFlightBytes >> 20) << 20,
            VerificationWorkers = (int)Option(args, "--verifiers", PieceWriterOptions.Default.VerificationWorkers),
        };

        string directory = Path.Combine(root, "blocktorrent-loop-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(directory);
        string imagePath = Path.Combine(directory, "image.raw");
        string backingPath = Path.Combine(directory, "target.img");
        string? loop = null;
        string? cgroup = null;
        try
        {
            long length = sizeMiB << 20;
            Console.WriteLine($"Image: {sizeMiB} MiB random data, {pieceKiB} KiB pieces, {versions}, {(shuffled ? "shuffled" : "sequential")} order; image and loop backing file in {root}; {Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Trim()}");
            WriteRandomImage(imagePath, length);
            var manifest = await ManifestBuilder.CreateAsync(imagePath, new ManifestBuilderOptions { PieceLength = pieceKiB << 10, Versions = versions }).ConfigureAwait(false);
            await using (var backing = new FileStream(backingPath, FileMode.Create, FileAccess.Write))
            {
                backing.SetLength(length);
            }

            loop = (await RunProgramAsync("losetup", "--find", "--show", "--direct-io=" + (loopDirectIO ? "on" : "off"), backingPath).ConfigureAwait(false)).Trim();
            Console.WriteLine($"Target: {loop} (backing file {backingPath}, loop direct I/O {(loopDirectIO ? "on: the backing file's disk is the bottleneck" : "off: writes land in the page cache")})");
            if (throttleMBps > 0)
            {
                cgroup = Throttle(loop, throttleMBps);
                Console.WriteLine($"Throttled to {throttleMBps} MB/s (cgroup v1 blkio.throttle.write_bps_device, for this process and dd): a device slower than hashing");
            }

            // One untimed deployment first, as BenchmarkDotNet warms up: the JIT compiles and tiers up the writer's code
            // (about a core-second per process, whatever the image size) before anything is timed. dd has no such cost.
            await DeployAsync(manifest, imagePath, loop, shuffled, writerOptions).ConfigureAwait(false);

            var dd = new List<double>();
            var ddSync = new List<double>();
            var device = new List<double>();
            var writer = new List<double>();
            for (int round = 1; round <= rounds; round++)
            {
                if (writerOnly)
                {
                    // For profiling the writer alone (perf record): no baselines, no comparison.
                    double before = CpuSeconds();
                    string only = string.Empty;
                    double seconds = await TimeAsync(async () => only = await DeployAsync(manifest, imagePath, loop, shuffled, writerOptions).ConfigureAwait(false)).ConfigureAwait(false);
                    Console.WriteLine($"round {round}: writer {length / seconds / 1e6:F0} MB/s, {(CpuSeconds() - before) / (length / (double)(1L << 30)):F2} core-s/GiB; {only}");
                    continue;
                }

                double ddSeconds = await TimeAsync(() => RunProgramAsync("dd", $"if={imagePath}", $"of={loop}", "bs=4M", "oflag=direct", "status=none")).ConfigureAwait(false);
                double cpu = CpuSeconds();

                // The writer and the device copy end with a flush (an image must be durable); dd as the issue gives it
                // does not, which on a loop device without direct I/O leaves the data in the backing file's page cache.
                double ddSyncSeconds = await TimeAsync(() => RunProgramAsync("dd", $"if={imagePath}", $"of={loop}", "bs=4M", "oflag=direct", "conv=fsync", "status=none")).ConfigureAwait(false);
                double ddCpu = CpuSeconds() - cpu;
                cpu = CpuSeconds();
                double deviceSeconds = await TimeAsync(() => CopyAsync(imagePath, loop, length)).ConfigureAwait(false);
                double deviceCpu = CpuSeconds() - cpu;
                cpu = CpuSeconds();
                double readAndHashSeconds = await TimeAsync(() => ReadAndVerifyAsync(manifest, imagePath)).ConfigureAwait(false);
                double readAndHashCpu = CpuSeconds() - cpu;
                await VerifyAsync(imagePath, loop, length).ConfigureAwait(false);
                cpu = CpuSeconds();
                string stages = string.Empty;
                double writerSeconds = await TimeAsync(async () => stages = await DeployAsync(manifest, imagePath, loop, shuffled, writerOptions).ConfigureAwait(false)).ConfigureAwait(false);
                double writerCpu = CpuSeconds() - cpu;
                await VerifyAsync(imagePath, loop, length).ConfigureAwait(false);
                dd.Add(length / ddSeconds / 1e6);
                ddSync.Add(length / ddSyncSeconds / 1e6);
                device.Add(length / deviceSeconds / 1e6);
                writer.Add(length / writerSeconds / 1e6);
                Console.WriteLine($"round {round}: dd {dd[^1],6:F0} MB/s   dd+fsync {ddSync[^1],6:F0} MB/s   device {device[^1],6:F0} MB/s ({device[^1] / dd[^1],4:P0})   writer {writer[^1],6:F0} MB/s ({writer[^1] / dd[^1],4:P0}, {writer[^1] / ddSync[^1],4:P0} of dd+fsync)   load {File.ReadAllText("/proc/loadavg")[..14]}");
                double gib = length / (double)(1L << 30);
                Console.WriteLine($"  CPU (user + sys of the process or dd; the loop driver's kernel threads not included), core-s per GiB: dd+fsync {ddCpu / gib:F2}, device {deviceCpu / gib:F2}, read + verify on one thread (no device) {readAndHashCpu / gib:F2} ({length / readAndHashSeconds / 1e6:F0} MB/s), writer {writerCpu / gib:F2}");
                Console.WriteLine($"  writer stages: {stages}");
            }

            if (writerOnly)
            {
                return 0;
            }

            double ddMedian = Median(dd);
            Console.WriteLine($"median: dd {ddMedian:F0} MB/s; LinuxBlockDevice alone {Median(device):F0} MB/s = {Median(device) / ddMedian:P0} of dd; writer (verify + write) {Median(writer):F0} MB/s = {Median(writer) / ddMedian:P0} of dd (goal >= 90%)");
            Console.WriteLine($"like for like (both end in a flush): dd conv=fsync {Median(ddSync):F0} MB/s; writer = {Median(writer) / Median(ddSync):P0} of it");
            return 0;
        }
        finally
        {
            if (cgroup is not null)
            {
                File.WriteAllText("/sys/fs/cgroup/blkio/cgroup.procs", Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
                Directory.Delete(cgroup);
            }

            if (loop is not null)
            {
                await RunProgramAsync("losetup", "-d", loop).ConfigureAwait(false);
            }

            Directory.Delete(directory, recursive: true);
        }
    }

    // The writer path a deployment takes: rent a pooled aligned buffer (backpressure), fill it as the swarm would,
    // commit; verification runs on all cores and the write stage coalesces pieces into large gathered writes.
    private static async Task<string> DeployAsync(TorrentManifest manifest, string imagePath, string loop, bool shuffled, PieceWriterOptions options)
    {
        long start = Stopwatch.GetTimestamp();
        await using var linux = LinuxBlockDevice.Open(loop, new LinuxBlockDeviceOptions { MinimumLength = manifest.Length, RereadPartitionTableOnDispose = false });
        return await DeployAsync(manifest, imagePath, linux, shuffled, options, start).ConfigureAwait(false);
    }

    /// <summary>
    /// Deploys the image at <paramref name="imagePath"/> onto <paramref name="target"/> through a <see cref="PieceWriter"/>
    /// (every piece verified, written, then the final flush) and describes the writer's stages.
    /// </summary>
    internal static async Task<string> DeployAsync(TorrentManifest manifest, string imagePath, BlockTorrent.Devices.IBlockDevice target, bool shuffled, PieceWriterOptions options, long start)
    {
        int[] order = [.. Enumerable.Range(0, manifest.PieceCount)];
        if (shuffled)
        {
            new Random(7).Shuffle(order);
        }

        using SafeFileHandle image = File.OpenHandle(imagePath);
        var device = new TimedDevice(target);
        await using var writer = new PieceWriter(manifest, device, options);
        var commits = new Task<PieceWriteResult>[order.Length];
        for (int i = 0; i < order.Length; i++)
        {
            var buffer = await writer.RentAsync(order[i]).ConfigureAwait(false);
            RandomAccess.Read(image, buffer.Memory.Span, manifest.GetPieceOffset(order[i]));
            commits[i] = writer.CommitAsync(buffer);
        }

        long committed = Stopwatch.GetTimestamp();
        foreach (var result in await Task.WhenAll(commits).ConfigureAwait(false))
        {
            if (result.Status == PieceWriteStatus.HashMismatch)
            {
                throw new InvalidOperationException($"Piece {result.Piece} failed verification.");
            }
        }

        long written = Stopwatch.GetTimestamp();
        await writer.CompleteAsync().ConfigureAwait(false);
        long end = Stopwatch.GetTimestamp();
        return FormattableString.Invariant($"last commit at {Stopwatch.GetElapsedTime(start, committed).TotalSeconds:F2} s, all written at {Stopwatch.GetElapsedTime(start, written).TotalSeconds:F2} s, complete (final flush) at {Stopwatch.GetElapsedTime(start, end).TotalSeconds:F2} s; ") + device.Describe(start, end);
    }

    // The floor of the writer's CPU: the image read into one aligned buffer piece by piece, as the deployment reads it,
    // and each piece verified as the writer verifies it, on one thread, with no device and no pipeline.
    private static Task ReadAndVerifyAsync(TorrentManifest manifest, string imagePath) => Task.Run(() =>
    {
        using SafeFileHandle image = File.OpenHandle(imagePath);
        using var buffer = new BlockTorrent.Buffers.AlignedBuffer(manifest.PieceLength);
        for (int piece = 0; piece < manifest.PieceCount; piece++)
        {
            Span<byte> data = buffer.Memory.Span[..manifest.GetPieceSize(piece)];
            RandomAccess.Read(image, data, manifest.GetPieceOffset(piece));
            if (!manifest.VerifyPiece(piece, data))
            {
                throw new InvalidOperationException($"Piece {piece} failed verification.");
            }
        }
    });

    // User + system CPU seconds of this process and of its waited-for children (dd).
    private static double CpuSeconds()
    {
        string stat = File.ReadAllText("/proc/self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');

        // Fields 14-17 of proc(5) (utime, stime, cutime, cstime) are 11-14 here, after pid and comm; clock ticks of 1/100 s.
        long ticks = 0;
        for (int i = 11; i <= 14; i++)
        {
            ticks += long.Parse(fields[i], CultureInfo.InvariantCulture);
        }

        return ticks / 100.0;
    }

    // Puts this process (and so the dd it starts) in a blkio cgroup that limits writes to the loop device, like a
    // slow USB stick or SD card, to show the writer when the device rather than hashing is the bottleneck.
    private static string Throttle(string loop, long megabytesPerSecond)
    {
        string cgroup = "/sys/fs/cgroup/blkio/blocktorrent-bench-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        Directory.CreateDirectory(cgroup);
        string dev = File.ReadAllText($"/sys/block/{Path.GetFileName(loop)}/dev").Trim();
        File.WriteAllText(Path.Combine(cgroup, "blkio.throttle.write_bps_device"), FormattableString.Invariant($"{dev} {megabytesPerSecond * 1_000_000}"));
        File.WriteAllText(Path.Combine(cgroup, "cgroup.procs"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        return cgroup;
    }

    // The device path without the writer: 4 MiB sequential writes from aligned memory, as dd does, plus the fsync.
    private static async Task CopyAsync(string imagePath, string loop, long length)
    {
        using SafeFileHandle image = File.OpenHandle(imagePath);
        await using var device = LinuxBlockDevice.Open(loop, new LinuxBlockDeviceOptions { MinimumLength = length, RereadPartitionTableOnDispose = false });
        using var buffer = new BlockTorrent.Buffers.AlignedBuffer(4 << 20);
        for (long offset = 0; offset < length; offset += 4 << 20)
        {
            int count = RandomAccess.Read(image, buffer.Memory.Span, offset);
            await device.WriteAsync(offset, buffer.Memory[..count]).ConfigureAwait(false);
        }

        await device.FlushAsync().ConfigureAwait(false);
    }

    private static async Task VerifyAsync(string imagePath, string loop, long length)
    {
        await using var device = LinuxBlockDevice.Open(loop, new LinuxBlockDeviceOptions { ReadOnly = true });
        using SafeFileHandle image = File.OpenHandle(imagePath);
        var expected = new byte[16 << 20];
        var actual = new byte[16 << 20];
        for (long offset = 0; offset < length; offset += expected.Length)
        {
            int count = RandomAccess.Read(image, expected, offset);
            await device.ReadAsync(offset, actual.AsMemory(0, count)).ConfigureAwait(false);
            if (!expected.AsSpan(0, count).SequenceEqual(actual.AsSpan(0, count)))
            {
                throw new InvalidOperationException($"{loop} differs from the image near offset {offset}.");
            }
        }
    }

    internal static async Task<double> TimeAsync(Func<Task> action)
    {
        long start = Stopwatch.GetTimestamp();
        await action().ConfigureAwait(false);
        return Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    internal static async Task<string> RunProgramAsync(string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {program}.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await error.ConfigureAwait(false)}");
        }

        return await output.ConfigureAwait(false);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

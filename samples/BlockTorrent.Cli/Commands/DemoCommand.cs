using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using BlockTorrent.Cli.Parsing;
using BlockTorrent.Devices;
using BlockTorrent.Discovery;
using BlockTorrent.Manifest;

namespace BlockTorrent.Cli.Commands;

/// <summary>
/// <c>blocktorrent demo</c>: the main job on an embedded default. Generates a synthetic disk image, seeds it with an
/// embedded tracker, deploys it to N targets in separate processes on loopback (each target seeding the others), checks every target is
/// bit-exact, and removes everything it made.
/// </summary>
internal static class DemoCommand
{
    public static Command Build(CliContext context)
    {
        var targets = new Option<int>("--targets") { Description = "How many targets to deploy to, each in its own process.", DefaultValueFactory = _ => 4 };
        Option<long?> size = CliOptions.Size("--size", "The size of the synthetic image (default: 512MiB).", s => s is < 1 << 20 or > 64L << 30 ? "the demo image must be from 1MiB to 64GiB." : null);
        var command = new Command("demo", "Deploy a synthetic disk image from one seed to several targets on this machine, and check they are bit-exact.") { targets, size };
        targets.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 32)
            {
                r.AddError("--targets must be from 1 to 32.");
            }
        });
        command.SetAction((parse, cancellationToken) => RunAsync(context, parse.GetValue(targets), parse.GetValue(size) ?? 512L << 20, cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(CliContext context, int targetCount, long size, CancellationToken cancellationToken)
    {
        TextWriter output = context.Console.Out;
        string folder = Path.Combine(Path.GetTempPath(), "blocktorrent-demo-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(folder);
        var children = new List<Process>();

        // The tracker outlives the targets, which announce that they stop as they exit.
        EmbeddedTracker? tracker = null;
        try
        {
            string image = Path.Combine(folder, "disk.img");
            output.WriteLine($"demo: generating a {ByteSize.Format(size)} synthetic disk image (random data, zero runs, repeated blocks) in {folder}");
            await SyntheticImage.WriteAsync(image, size, cancellationToken).ConfigureAwait(false);
            TorrentManifest manifest = await ManifestBuilder.CreateAsync(image, new ManifestBuilderOptions { CreatedBy = "blocktorrent demo" }, cancellationToken).ConfigureAwait(false);
            string torrent = Path.Combine(folder, "disk.torrent");
            await manifest.SaveAsync(torrent, cancellationToken).ConfigureAwait(false);
            output.WriteLine($"demo: {manifest.PieceCount} pieces of {ByteSize.Format(manifest.PieceLength)}: {manifest.ZeroPieceCount} all-zero, {manifest.DuplicatePieceCount} duplicates");

            // Everyone finds everyone through the tracker: the seed and each target announce to it and connect to
            // the peers it returns, so targets fetch from each other as soon as they hold pieces.
            tracker = await SwarmSupport.StartTrackerAsync(context, new IPEndPoint(IPAddress.Loopback, 0), manifest, cancellationToken).ConfigureAwait(false);
            await using BlockTorrentClient seedClient = SwarmSupport.StartClient(context, new IPEndPoint(IPAddress.Loopback, 0), lsd: false);
            await using IBlockDevice source = FileBlockDevice.Open(image, new FileBlockDeviceOptions { ReadOnly = true });
            using var counters = new TrafficCounters();
            using var stopSeed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var seedOptions = new SeedOptions();
            seedOptions.Trackers.Add(tracker.AnnounceUri);
            Task seeding = seedClient.SeedAsync(manifest, source, seedOptions, stopSeed.Token);
            output.WriteLine($"demo: seeding on {seedClient.LocalEndPoint} with a tracker at {tracker.AnnounceUri}; starting {targetCount} target processes");

            var results = new Task<JsonElement>[targetCount];
            long started = TimeProvider.System.GetTimestamp();
            for (int i = 0; i < targetCount; i++)
            {
                string[] args = ["deploy", torrent, "--target", Path.Combine(folder, $"target{i}.img"), "--listen", "127.0.0.1:0", "--tracker", tracker.AnnounceUri.ToString(), "--seed-after", "forever", "--exit-on-stdin-eof", "--json", "--timeout", "10m"];
                Process child = StartSelf(args);
                children.Add(child);
                results[i] = ReadResultAsync(child, i, cancellationToken);
            }

            JsonElement[] done = await Task.WhenAll(results).ConfigureAwait(false);
            TimeSpan elapsed = TimeProvider.System.GetElapsedTime(started);
            long fromSeed = counters.Uploaded;
            await stopSeed.CancelAsync().ConfigureAwait(false);
            await seeding.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);

            // The image and the targets are hashed at once (one thread each), not one after another.
            byte[][] hashes = await Task.WhenAll(
                new[] { image }.Concat(Enumerable.Range(0, targetCount).Select(i => Path.Combine(folder, $"target{i}.img")))
                    .Select(path => Task.Run(() => HashFileAsync(path, cancellationToken), cancellationToken))).ConfigureAwait(false);
            byte[] expected = hashes[0];
            bool allExact = true;
            long downloaded = 0;
            long local = 0;
            for (int i = 0; i < targetCount; i++)
            {
                JsonElement r = done[i];
                double seconds = r.GetProperty("seconds").GetDouble();
                bool exact = hashes[i + 1].AsSpan().SequenceEqual(expected);
                allExact &= exact;
                downloaded += r.GetProperty("bytesDownloaded").GetInt64();
                local += r.GetProperty("bytesSatisfiedLocally").GetInt64();
                output.WriteLine(string.Create(
                    CultureInfo.InvariantCulture,
                    $"target {i}: {ByteSize.Format(size / Math.Max(seconds, 0.001))}/s ({seconds:0.0}s), received {ByteSize.Format(r.GetProperty("bytesDownloaded").GetInt64())}, sent {ByteSize.Format(r.GetProperty("bytesUploaded").GetInt64())}, {(exact ? "bit-exact" : "DIFFERS")}"));
            }

            output.WriteLine($"demo: {targetCount} targets imaged in {Duration.Format(elapsed)}");
            output.WriteLine($"demo: bytes from the seed:        {ByteSize.Format(fromSeed)}");
            output.WriteLine($"demo: bytes from other targets:   {ByteSize.Format(Math.Max(0, downloaded - fromSeed))}");
            output.WriteLine($"demo: bytes satisfied locally:    {ByteSize.Format(local)} (zero and duplicate pieces, never sent)");
            output.WriteLine(allExact ? $"demo: every target is bit-exact (SHA-256 {Convert.ToHexStringLower(expected)[..16]}…)" : "demo: FAILED: a target differs from the image");
            return allExact ? ExitCodes.Success : ExitCodes.VerifyFailed;
        }
        finally
        {
            await StopChildrenAsync(children).ConfigureAwait(false);
            if (tracker is not null)
            {
                await tracker.DisposeAsync().ConfigureAwait(false);
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Starts this program again with <paramref name="args"/> (through dotnet when it runs as a .dll).</summary>
    private static Process StartSelf(IEnumerable<string> args)
    {
        string host = Environment.ProcessPath ?? throw new CommandException("cannot find this program's path to start the targets.");
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = false,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            // The entry assembly's file beside the running program (Assembly.Location is empty in a single-file or
            // native build; there the program is its own host and this branch is not taken).
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, typeof(DemoCommand).Assembly.GetName().Name + ".dll"));
        }

        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        return Process.Start(start) ?? throw new CommandException($"cannot start {host}.");
    }

    /// <summary>Reads a target's JSON events until its result; fails if it exits first.</summary>
    private static async Task<JsonElement> ReadResultAsync(Process child, int index, CancellationToken cancellationToken)
    {
        while (await child.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false) is string line)
        {
            if (line.StartsWith('{'))
            {
                JsonElement e = JsonDocument.Parse(line).RootElement;
                if (e.GetProperty("event").GetString() == "result")
                {
                    return e.Clone();
                }
            }
        }

        await child.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        throw new CommandException($"target {index} stopped before completing (exit code {child.ExitCode}).");
    }

    /// <summary>Closes each child's standard input (its signal to stop seeding), then kills by PID any that linger.</summary>
    private static async Task StopChildrenAsync(List<Process> children)
    {
        foreach (Process child in children)
        {
            child.StandardInput.Close();
        }

        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        foreach (Process child in children)
        {
            try
            {
                await child.WaitForExitAsync(grace.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                child.Kill(entireProcessTree: true);
            }

            child.Dispose();
        }
    }

    private static async Task<byte[]> HashFileAsync(string path, CancellationToken cancellationToken)
    {
        await using var stream = File.OpenRead(path);
        return await SHA256.HashDataAsync(stream, cancellationToken).ConfigureAwait(false);
    }
}

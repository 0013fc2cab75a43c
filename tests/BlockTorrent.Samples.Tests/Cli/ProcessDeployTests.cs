using System.Diagnostics;
using System.Text.Json;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Samples.Tests.Cli;

/// <summary><c>deploy</c> as an operator runs it: a separate process, stopped with Ctrl-C (SIGINT), and run again.</summary>
public sealed class ProcessDeployTests : IDisposable
{
    private const int ImageLength = 64 << 20;
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task CtrlCStopsADeployWithOneThirtyAndARerunResumesBitExactFetchingLess()
    {
        Requires.Linux();
        Requires.Program("kill", "procps");
        string image = SampleImage.Write(_dir.File("disk.img"), ImageLength);
        Assert.Equal(0, (await CliRun.RunAsync("create", image, "-o", _dir.File("disk.torrent"), "--piece-size", "64KiB")).ExitCode);
        TorrentManifest manifest = TorrentManifest.Load(_dir.File("disk.torrent"));
        long fetchable = Enumerable.Range(0, manifest.PieceCount).Where(i => !manifest.IsZeroPiece(i) && manifest.GetCanonicalPiece(i) == i).Sum(i => (long)manifest.GetPieceSize(i));

        // The seed serves 4 MiB, then holds its reads: the first run gets that far and no further.
        var source = new GatedReadDevice(FileBlockDevice.Open(image, new FileBlockDeviceOptions { ReadOnly = true }), 4 << 20);
        await using LibrarySeed seed = LibrarySeed.Start(_dir.File("disk.torrent"), image, source);
        string[] deploy = ["deploy", _dir.File("disk.torrent"), "--target", _dir.File("target.img"), "--peer", seed.EndPoint, "--listen", "127.0.0.1:0", "--json", "--timeout", "3m"];

        long firstDownloaded = await DeployUntilCtrlCAsync(deploy);

        Assert.True(File.Exists(_dir.File("target.img") + ".blocktorrent-resume"));
        Assert.True(firstDownloaded > 0 && firstDownloaded < fetchable, $"{firstDownloaded} of {fetchable} bytes in the first run");
        source.Open();

        var (exitCode, again) = await RunCliAsync(deploy);

        Assert.True(exitCode == 0, $"exit {exitCode}\n{again}");
        Assert.Equal(File.ReadAllBytes(image), File.ReadAllBytes(_dir.File("target.img")));
        long secondDownloaded = again.Result.GetProperty("bytesDownloaded").GetInt64();
        Assert.True(secondDownloaded < fetchable, $"the second run fetched {secondDownloaded} of {fetchable} bytes");
        Assert.True(again.Result.GetProperty("piecesAlreadyPresent").GetInt32() > 0, again.ToString());
    }

    [Fact]
    public async Task ARerunAfterAnotherImageWasDeployedToTheSameLoopDeviceEndsWithItsOwnBytesNotTheOthers()
    {
        LoopDevice.Require();
        Requires.Program("kill", "procps");
        string imageA = SampleImage.Write(_dir.File("a.img"), ImageLength, seed: 1);
        string imageB = SampleImage.Write(_dir.File("b.img"), ImageLength, seed: 2);
        Assert.Equal(0, (await CliRun.RunAsync("create", imageA, "-o", _dir.File("a.torrent"), "--piece-size", "64KiB")).ExitCode);
        Assert.Equal(0, (await CliRun.RunAsync("create", imageB, "-o", _dir.File("b.torrent"), "--piece-size", "64KiB")).ExitCode);
        await using LoopDevice loop = await LoopDevice.CreateAsync(_dir, ImageLength, name: "device.img");
        string[] Deploy(string name, LibrarySeed seed) =>
            ["deploy", _dir.File(name + ".torrent"), "--target", loop.Path, "--peer", seed.EndPoint, "--listen", "127.0.0.1:0", "--resume-file", _dir.File(name + ".resume"), "--json", "--timeout", "3m"];

        // 1. Deploying A is stopped with Ctrl-C part-way, leaving A's resume file.
        var sourceA = new GatedReadDevice(FileBlockDevice.Open(imageA, new FileBlockDeviceOptions { ReadOnly = true }), 4 << 20);
        await using LibrarySeed seedA = LibrarySeed.Start(_dir.File("a.torrent"), imageA, sourceA);
        await DeployUntilCtrlCAsync(Deploy("a", seedA));
        Assert.True(File.Exists(_dir.File("a.resume")));

        // 2. B is deployed to the same device, completely.
        await using (LibrarySeed seedB = LibrarySeed.Start(_dir.File("b.torrent"), imageB))
        {
            var (exitB, outputB) = await RunCliAsync(Deploy("b", seedB));
            Assert.True(exitB == 0, $"exit {exitB}\n{outputB}");
        }

        Assert.Equal(File.ReadAllBytes(imageB), loop.ReadBackingFile());

        // 3. A again, with A's resume file: the pieces it names now hold B's bytes, so they must be fetched again.
        sourceA.Open();
        var (exitA, outputA) = await RunCliAsync(Deploy("a", seedA));

        Assert.True(exitA == 0, $"exit {exitA}\n{outputA}");
        Assert.Equal(File.ReadAllBytes(imageA), loop.ReadBackingFile());
        Assert.True(outputA.Result.GetProperty("resumedPiecesRejected").GetInt32() > 0, outputA.ToString());
        Assert.Equal(0, (await CliRun.RunAsync("verify", _dir.File("a.torrent"), "--target", loop.Path)).ExitCode);
    }

    /// <summary>Runs <c>deploy</c> until its first pieces from peers are on the target, stops it with SIGINT, and returns the bytes it had downloaded.</summary>
    private static async Task<long> DeployUntilCtrlCAsync(string[] deploy)
    {
        using Process first = StartCli(deploy);
        var output = new OutputLines(first);
        await Eventually.TrueAsync(() => output.Progress("piecesFromPeers") > 0, TimeSpan.FromMinutes(1), () => "pieces from the seed on the target:\n" + output, TestContext.Current.CancellationToken);
        await ExternalProgram.RunAsync("kill", ["-INT", first.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10), cancellationToken: TestContext.Current.CancellationToken);
        await first.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(1), TestContext.Current.CancellationToken);
        await output.Completion;

        Assert.True(first.ExitCode == 130, $"exit {first.ExitCode}\n{output}");
        return output.Progress("downloaded");
    }

    /// <summary>Runs the command as a process to its end, within three minutes.</summary>
    private static async Task<(int ExitCode, OutputLines Output)> RunCliAsync(string[] args)
    {
        using Process process = StartCli(args);
        var output = new OutputLines(process);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromMinutes(3), TestContext.Current.CancellationToken);
        await output.Completion;
        return (process.ExitCode, output);
    }

    // The CLI is started with SIGINT at its default disposition: a test runner launched in the background of a
    // non-interactive shell ignores SIGINT, its children inherit that, and .NET keeps an inherited SIG_IGN, so the
    // Ctrl-C these tests send would never reach the CLI.
    private static Process StartCli(IEnumerable<string> args) =>
        ExternalProgram.Start("env", ["--default-signal=INT", "dotnet", Path.Combine(AppContext.BaseDirectory, "BlockTorrent.Cli.dll"), .. args]);

    /// <summary>Collects a child's JSON lines as they come, and its standard error.</summary>
    private sealed class OutputLines
    {
        private readonly List<string> _lines = [];
        private JsonElement? _progress;
        private JsonElement? _result;

        public OutputLines(Process process)
        {
            Completion = Task.WhenAll(ReadAsync(process.StandardOutput, isError: false), ReadAsync(process.StandardError, isError: true));
        }

        public Task Completion { get; }

        public JsonElement Result
        {
            get
            {
                lock (_lines)
                {
                    return _result ?? throw new InvalidOperationException("No result line:\n" + string.Join('\n', _lines));
                }
            }
        }

        /// <summary>Gets a number from the latest progress event, or 0 before the first.</summary>
        public long Progress(string name)
        {
            lock (_lines)
            {
                return _progress is { } p && p.TryGetProperty(name, out JsonElement value) ? value.GetInt64() : 0;
            }
        }

        public override string ToString()
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }

        private async Task ReadAsync(StreamReader reader, bool isError)
        {
            while (await reader.ReadLineAsync() is string line)
            {
                lock (_lines)
                {
                    _lines.Add((isError ? "stderr: " : string.Empty) + line);
                    if (!isError && line.StartsWith('{'))
                    {
                        JsonElement e = JsonDocument.Parse(line).RootElement.Clone();
                        switch (e.GetProperty("event").GetString())
                        {
                            case "progress":
                                _progress = e;
                                break;
                            case "result":
                                _result = e;
                                break;
                        }
                    }
                }
            }
        }
    }
}

using System.Globalization;
using System.Net;
using System.Runtime.Versioning;
using System.Text.Json;
using BlockTorrent.Interop.Tests.Discovery;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Clients;

/// <summary>
/// Transmission 3.00 and aria2 1.36 download a bit-exact copy from a BlockTorrent seed on a file (no DHT, LSD or
/// PEX: aria2 finds the seed through our embedded tracker alone; Transmission is dialled by the seed, see below).
/// The seed's device reads prove the data came from us. The torrents are v1: neither program reads BEP 52 file
/// trees, so a hybrid torrent (ours or libtorrent's) is refused by Transmission ("Error parsing .torrent file") and
/// read by aria2 with a wrong info-hash (the hash of a dictionary it re-encoded), so aria2 could never join its swarm.
/// </summary>
public sealed class TransmissionAndAria2Tests
{
    private const long ImageLength = (3 * 1024 * 1024) + 4321;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    [Fact]
    [SupportedOSPlatform("linux")]
    public async Task TransmissionDownloadsABitExactCopyFromABlockTorrentSeed()
    {
        string transmission = Requires.Program("transmission-cli", "transmission-cli");
        using var dir = new TempDirectory();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using TrackedSeed seed = await TrackedSeed.PrepareAsync(dir, ImageLength, seed: 31, TorrentVersions.V1, cts.Token);
        string config = Directory.CreateDirectory(dir.File("transmission")).FullName;
        string downloads = Directory.CreateDirectory(dir.File("downloads")).FullName;
        string finished = dir.File("finished");
        string script = dir.File("finished.sh");
        int port = OpenTracker.FreePortForTcpAndUdp();
        await WriteTransmissionSettingsAsync(config, downloads, port, cts.Token);
        await File.WriteAllTextAsync(script, $"#!/bin/sh\necho done > '{finished}'\n", cts.Token);
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        // transmission-cli never exits by itself: it runs the finish script when the torrent completes, then seeds.
        await using (var process = new RunningProgram(transmission, ["-g", config, "-w", downloads, "-p", port.ToString(CultureInfo.InvariantCulture), "-M", "-et", "-f", script, seed.TorrentPath], dir.Path, line => line.StartsWith("Progress:", StringComparison.Ordinal)))
        {
            // Transmission 3.00 never dials a 127.0.0.0/8 address a tracker gives it ("martian"), but it accepts
            // connections from one: the seed, which also announces to the tracker, dials transmission's port.
            await Eventually.TrueAsync(() => process.Output.Contains("Bound socket", StringComparison.Ordinal) || process.HasExited, TimeSpan.FromSeconds(20), () => $"transmission to listen; it said:\n{process.Output}", cts.Token);
            await seed.StartAsync([new IPEndPoint(IPAddress.Loopback, port)], cts.Token);
            await Eventually.TrueAsync(() => File.Exists(finished) || process.HasExited, TimeSpan.FromSeconds(60), () => $"transmission to finish the download; it said:\n{process.Output}", cts.Token);
            Assert.True(File.Exists(finished), $"transmission-cli exited early:\n{process.Output}");
        }

        seed.AssertServedABitExactCopy(Path.Combine(downloads, seed.Manifest.Name), "transmission");
    }

    [Fact]
    public async Task Aria2DownloadsABitExactCopyFromABlockTorrentSeed()
    {
        string aria2 = Requires.Program("aria2c", "aria2");
        using var dir = new TempDirectory();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Bound);
        await using TrackedSeed seed = await TrackedSeed.StartAsync(dir, ImageLength, seed: 32, TorrentVersions.V1, cts.Token);
        string downloads = Directory.CreateDirectory(dir.File("downloads")).FullName;
        int port = OpenTracker.FreePortForTcpAndUdp();

        ProgramResult result = await ExternalProgram.RunAsync(
            aria2,
            [
                "--enable-dht=false", "--enable-dht6=false", "--bt-enable-lpd=false", "--enable-peer-exchange=false",
                "--seed-time=0", "--file-allocation=none", "--summary-interval=0", "--console-log-level=warn",
                $"--listen-port={port}", "--bt-stop-timeout=60", "-d", downloads, seed.TorrentPath,
            ],
            Bound,
            dir.Path,
            cts.Token);

        Assert.True(result.ExitCode == 0, $"aria2c exited with {result.ExitCode}:\n{result.StandardOutput}\n{result.StandardError}");
        seed.AssertServedABitExactCopy(Path.Combine(downloads, seed.Manifest.Name), "aria2");
    }

    private static async Task WriteTransmissionSettingsAsync(string config, string downloads, int port, CancellationToken cancellationToken)
    {
        // Only the tracker may find peers; nothing leaves loopback.
        var settings = new Dictionary<string, object>
        {
            ["dht-enabled"] = false,
            ["lpd-enabled"] = false,
            ["pex-enabled"] = false,
            ["utp-enabled"] = false,
            ["port-forwarding-enabled"] = false,
            ["blocklist-enabled"] = false,
            ["encryption"] = 0,
            ["peer-port"] = port,
            ["bind-address-ipv4"] = "127.0.0.1",
            ["download-dir"] = downloads,
            ["incomplete-dir-enabled"] = false,
            ["rename-partial-files"] = false,
            ["speed-limit-up-enabled"] = false,
            ["speed-limit-down-enabled"] = false,
            ["message-level"] = 3,
        };
        await File.WriteAllTextAsync(Path.Combine(config, "settings.json"), JsonSerializer.Serialize(settings), cancellationToken);
    }
}

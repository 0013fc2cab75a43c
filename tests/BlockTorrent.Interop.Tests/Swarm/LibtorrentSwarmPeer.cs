using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Swarm;

/// <summary>
/// A libtorrent seed or downloader driven by libtorrent_swarm.py, talking only to the peers a test names. Killed by
/// PID on dispose; its output is kept for failure messages.
/// </summary>
internal sealed class LibtorrentSwarmPeer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private LibtorrentSwarmPeer(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue("stderr: " + e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static string Script => Path.Combine(AppContext.BaseDirectory, "Swarm", "libtorrent_swarm.py");

    public string Output => string.Join('\n', _output);

    /// <summary>Gets the port libtorrent listens on.</summary>
    public int Port { get; private set; }

    /// <summary>
    /// Starts a libtorrent seed of <paramref name="directory"/> and waits until it listens; for an SSL torrent,
    /// <paramref name="ssl"/> is the certificate and key libtorrent presents (it then reports its SSL port).
    /// </summary>
    public static Task<LibtorrentSwarmPeer> SeedAsync(string torrent, string directory, CancellationToken cancellationToken, (string Certificate, string Key)? ssl = null) =>
        StartAsync("seed", ["--torrent", torrent, .. SslArguments(ssl)], directory, [], cancellationToken);

    /// <summary>
    /// Starts a libtorrent download into <paramref name="directory"/> from the given peers; for an SSL torrent,
    /// <paramref name="ssl"/> is the certificate and key libtorrent presents. It gives up (exit 1, printing its
    /// progress) after <paramref name="timeoutSeconds"/>.
    /// </summary>
    public static Task<LibtorrentSwarmPeer> DownloadAsync(string torrent, string directory, IPEndPoint peer, CancellationToken cancellationToken, (string Certificate, string Key)? ssl = null, int timeoutSeconds = 50) =>
        StartAsync("download", ["--torrent", torrent, .. SslArguments(ssl)], directory, [peer], cancellationToken, timeoutSeconds);

    /// <summary>Starts a libtorrent download into <paramref name="directory"/> from the peers the torrent's trackers return.</summary>
    public static Task<LibtorrentSwarmPeer> DownloadFromTrackersAsync(string torrent, string directory, CancellationToken cancellationToken) =>
        StartAsync("download", ["--torrent", torrent], directory, [], cancellationToken);

    /// <summary>Starts a libtorrent download into <paramref name="directory"/> from a magnet link: the metadata comes from the peer too.</summary>
    public static Task<LibtorrentSwarmPeer> DownloadMagnetAsync(string magnet, string directory, IPEndPoint peer, CancellationToken cancellationToken) =>
        StartAsync("download", ["--magnet", magnet], directory, [peer], cancellationToken);

    /// <summary>Has libtorrent check a file against a torrent, failing with its output unless every piece matches.</summary>
    public static async Task CheckAsync(string torrent, string directory, CancellationToken cancellationToken)
    {
        Requires.PythonLibtorrent();
        ProgramResult result = await ExternalProgram.RunAsync("/usr/bin/python3", [Script, "check", "--torrent", torrent, "--dir", directory, "--timeout", "60"], TimeSpan.FromSeconds(90), null, cancellationToken);
        Assert.True(result.ExitCode == 0, $"libtorrent rejects pieces: {result.StandardOutput}{result.StandardError}");
    }

    /// <summary>Waits until the download process exits, failing with its output unless it completed.</summary>
    public async Task WaitForCompletionAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Assert.Fail($"libtorrent did not finish within {timeout}:\n{Output}");
        }

        _process.WaitForExit();
        Assert.True(_process.ExitCode == 0, $"libtorrent exited with {_process.ExitCode}:\n{Output}");
    }

    /// <summary>Waits until the process exits, whatever its exit code, and returns its output.</summary>
    public async Task<string> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        await _process.WaitForExitAsync(cts.Token);
        _process.WaitForExit();
        return Output;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private static string[] SslArguments((string Certificate, string Key)? ssl) =>
        ssl is { } pair ? ["--ssl-cert", pair.Certificate, "--ssl-key", pair.Key] : [];

    private static async Task<LibtorrentSwarmPeer> StartAsync(string mode, string[] source, string directory, IEnumerable<IPEndPoint> peers, CancellationToken cancellationToken, int timeoutSeconds = 50)
    {
        Requires.PythonLibtorrent();
        List<string> args = [Script, mode, .. source, "--dir", directory, "--timeout", timeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        foreach (IPEndPoint endPoint in peers)
        {
            args.AddRange(["--peer", endPoint.ToString()]);
        }

        var peer = new LibtorrentSwarmPeer(ExternalProgram.Start("/usr/bin/python3", args));
        try
        {
            await Eventually.TrueAsync(() => peer.TryReadPort() || peer._process.HasExited, TimeSpan.FromSeconds(30), "libtorrent to listen", cancellationToken);
            Assert.True(peer.Port != 0, $"libtorrent did not start:\n{peer.Output}");
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }

        return peer;
    }

    private bool TryReadPort()
    {
        foreach (string line in _output)
        {
            if (line.StartsWith("{\"port\"", StringComparison.Ordinal))
            {
                Port = JsonDocument.Parse(line).RootElement.GetProperty("port").GetInt32();
                return Port != 0;
            }
        }

        return false;
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using BlockTorrent.Manifest;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Discovery;

/// <summary>
/// libtorrent (python3-libtorrent) driven by libtorrent_peer.py: makes a torrent, seeds or downloads it with only
/// the peer sources a test names. The process is killed by PID on dispose; its output is kept for failure messages.
/// </summary>
internal sealed class LibtorrentPeer : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private LibtorrentPeer(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue(e.Data); } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { _output.Enqueue("stderr: " + e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public static string Script => Path.Combine(AppContext.BaseDirectory, "Discovery", "libtorrent_peer.py");

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output => string.Join('\n', _output);

    public bool IsComplete => _output.Any(l => l.Contains("\"complete\"", StringComparison.Ordinal));

    /// <summary>Writes a random file of <paramref name="size"/> bytes into <paramref name="directory"/> and a v1 torrent for it.</summary>
    public static async Task<(InfoHash InfoHash, string Torrent)> MakeTorrentAsync(string directory, int size, string? tracker, CancellationToken cancellationToken)
    {
        Requires.PythonLibtorrent();
        string torrent = Path.Combine(directory, "payload.torrent");
        List<string> args = [Script, "make", "--dir", directory, "--torrent", torrent, "--size", size.ToString()];
        if (tracker is not null)
        {
            args.AddRange(["--tracker", tracker]);
        }

        ProgramResult result = (await ExternalProgram.RunAsync("/usr/bin/python3", args, TimeSpan.FromSeconds(60), null, cancellationToken)).EnsureSuccess("libtorrent_peer.py make");
        return (InfoHash.FromHex(result.StandardOutput.Trim()), torrent);
    }

    /// <summary>Starts a seed or a downloader, optionally inside a network namespace, and waits until its session is up.</summary>
    public static async Task<LibtorrentPeer> StartAsync(string mode, string directory, string torrent, string listen, bool lsd, NetworkNamespace? ns, CancellationToken cancellationToken)
    {
        List<string> args = [Script, mode, "--dir", directory, "--torrent", torrent, "--listen", listen, "--timeout", "120"];
        if (lsd)
        {
            args.Add("--lsd");
        }

        Process process = ns is null ? ExternalProgram.Start("/usr/bin/python3", args) : ns.Start("/usr/bin/python3", args);
        var peer = new LibtorrentPeer(process);
        try
        {
            await Eventually.TrueAsync(() => peer.Has("ready") || process.HasExited, TimeSpan.FromSeconds(30), "libtorrent to start", cancellationToken);
            if (process.HasExited)
            {
                await process.WaitForExitAsync(cancellationToken);
                throw new InvalidOperationException($"libtorrent_peer.py {mode} exited with {process.ExitCode}:\n{peer.Output}");
            }
        }
        catch
        {
            await peer.DisposeAsync();
            throw;
        }

        return peer;
    }

    public bool Has(string @event) => _output.Any(l => l.StartsWith('{') && JsonDocument.Parse(l).RootElement.GetProperty("event").GetString() == @event);

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }
}

using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;

namespace BlockTorrent.Benchmarks.Swarm;

/// <summary>A peer process started by a benchmark: its JSON output lines, its peak RSS, and a kill by its PID.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly Channel<JsonElement> _lines = Channel.CreateUnbounded<JsonElement>();
    private readonly List<string> _errors = [];

    private ChildProcess(Process process, string name)
    {
        _process = process;
        Name = name;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _lines.Writer.TryComplete();
            }
            else if (e.Data.StartsWith('{'))
            {
                _lines.Writer.TryWrite(JsonDocument.Parse(e.Data).RootElement.Clone());
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_errors)
                {
                    _errors.Add(e.Data);
                }
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public string Name { get; }

    public int Id => _process.Id;

    /// <summary>Starts the benchmark executable itself with <paramref name="arguments"/> (a <c>peer</c> role).</summary>
    public static ChildProcess StartSelf(string name, params IEnumerable<string> arguments)
    {
        // Run as "dotnet BlockTorrent.Benchmarks.dll" (as the tests run it), this process is the dotnet host: start the
        // host again with the same assembly rather than the host alone.
        string program = Environment.ProcessPath!;
        return Path.GetFileNameWithoutExtension(program) == "dotnet"
            ? Start(name, program, [Path.Combine(AppContext.BaseDirectory, "BlockTorrent.Benchmarks.dll"), .. arguments])
            : Start(name, program, arguments);
    }

    public static ChildProcess Start(string name, string program, IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return new ChildProcess(Process.Start(info) ?? throw new InvalidOperationException($"Could not start {program}."), name);
    }

    /// <summary>Waits for the first output line that has a property <paramref name="property"/>.</summary>
    public async Task<JsonElement> WaitForAsync(string property, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (await _lines.Reader.WaitToReadAsync(cts.Token).ConfigureAwait(false))
            {
                while (_lines.Reader.TryRead(out JsonElement line))
                {
                    if (line.TryGetProperty(property, out _))
                    {
                        return line;
                    }
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} (pid {Id}) printed no '{property}' within {timeout.TotalSeconds:F0} s. {Errors()}");
        }

        throw new InvalidOperationException($"{Name} (pid {Id}) exited without printing '{property}'. {Errors()}");
    }

    /// <summary>Waits for an output line whose <c>event</c> is <paramref name="name"/>.</summary>
    public async Task<JsonElement> WaitForEventAsync(string name, TimeSpan timeout)
    {
        while (true)
        {
            JsonElement line = await WaitForAsync("event", timeout).ConfigureAwait(false);
            if (line.GetProperty("event").GetString() == name)
            {
                return line;
            }
        }
    }

    /// <summary>Reads the process's peak resident set (VmHWM) in KiB while it still runs.</summary>
    public long PeakRssKiB() => _process.HasExited ? -1 : PeerCommand.PeakRssKiB(_process.Id);

    /// <summary>Reads the CPU time (user + system) the process has used so far, in seconds.</summary>
    public double CpuSeconds()
    {
        try
        {
            return _process.HasExited ? -1 : _process.TotalProcessorTime.TotalSeconds;
        }
        catch (InvalidOperationException)
        {
            return -1;
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
    }

    private string Errors()
    {
        lock (_errors)
        {
            return string.Join(Environment.NewLine, _errors.TakeLast(20));
        }
    }
}

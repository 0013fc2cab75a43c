using System.Collections.Concurrent;
using System.Diagnostics;

namespace BlockTorrent.Testing;

/// <summary>A long-running program under test (it does not exit by itself), killed with its children by PID on dispose; its output is kept for failure messages.</summary>
public sealed class RunningProgram : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private readonly Func<string, bool>? _isNoise;

    /// <summary>Starts the program.</summary>
    /// <param name="program">The program.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="workingDirectory">The working directory, or <see langword="null"/>.</param>
    /// <param name="isNoise">Chooses output lines not worth keeping (progress lines), or <see langword="null"/>.</param>
    public RunningProgram(string program, IEnumerable<string> arguments, string? workingDirectory = null, Func<string, bool>? isNoise = null)
        : this(ExternalProgram.Start(program, arguments, workingDirectory), isNoise)
    {
    }

    /// <summary>Takes over a started process whose output is redirected (e.g. from <see cref="NetworkNamespace.Start"/>).</summary>
    /// <param name="process">The process; this instance kills and disposes it.</param>
    /// <param name="isNoise">Chooses output lines not worth keeping, or <see langword="null"/>.</param>
    public RunningProgram(Process process, Func<string, bool>? isNoise = null)
    {
        _isNoise = isNoise;
        _process = process;
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { Keep(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Keep("stderr: " + e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output => string.Join('\n', _output);

    public int ExitCode => _process.ExitCode;

    /// <summary>Waits for the program to exit by itself, failing with its output when <paramref name="timeout"/> passes first.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        await Eventually.TrueAsync(() => _process.HasExited, timeout, () => $"the program to exit; it said:\n{Output}", cancellationToken);
        await _process.WaitForExitAsync(cancellationToken); // drains the output events
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    // Progress lines can be many: keep the last ones.
    private void Keep(string line)
    {
        if (_isNoise?.Invoke(line) == true)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
        }
    }
}

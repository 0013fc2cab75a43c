using System.Collections.Concurrent;
using System.Diagnostics;
using BlockTorrent.Testing;

namespace BlockTorrent.Interop.Tests.Clients;

/// <summary>A long-running program under test (it does not exit by itself), killed with its children by PID on dispose; its output is kept for failure messages.</summary>
internal sealed class RunningProgram : IAsyncDisposable
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
    {
        _isNoise = isNoise;
        _process = ExternalProgram.Start(program, arguments, workingDirectory);
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) { Keep(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Keep("stderr: " + e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public string Output => string.Join('\n', _output);

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

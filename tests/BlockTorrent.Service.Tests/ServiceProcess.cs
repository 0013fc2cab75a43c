using System.Diagnostics;
using System.Globalization;
using BlockTorrent.Testing;

namespace BlockTorrent.Service.Tests;

/// <summary>
/// The built service run as systemd runs it: a separate process, its log read from its output, stopped with SIGTERM.
/// Killed (with its children) on dispose if it is still running.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Task _output;

    private ServiceProcess(Process process)
    {
        _process = process;
        _output = Task.WhenAll(ReadAsync(process.StandardOutput, string.Empty), ReadAsync(process.StandardError, "stderr: "));
    }

    /// <summary>Gets the service's output so far (standard error lines marked), for assertions and failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_lines)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    /// <summary>
    /// Settings as command-line arguments for a service on loopback with free ports, its own log at Information, its
    /// state in <c>ROLE-state</c> under <paramref name="root"/> (a later <c>StateDirectory</c> argument wins), and no
    /// appsettings.json (the content root is <paramref name="root"/>).
    /// </summary>
    public static string[] Loopback(TempDirectory root, string role) =>
        [.. ServiceInstance.Loopback(role).Select(s => $"--{s.Key}={s.Value}"), $"--BlockTorrent:StateDirectory={root.File(role.ToLowerInvariant() + "-state")}", "--Logging:LogLevel:BlockTorrent.Service=Information", "--contentRoot", root.Path];

    /// <summary>Starts <c>dotnet BlockTorrent.Service.dll</c> with <paramref name="arguments"/>, in <paramref name="network"/> when given.</summary>
    public static ServiceProcess Start(IEnumerable<string> arguments, NetworkNamespace? network = null)
    {
        string[] command = [Path.Combine(AppContext.BaseDirectory, "BlockTorrent.Service.dll"), .. arguments];
        return new ServiceProcess(network is null ? ExternalProgram.Start("dotnet", command) : network.Start("dotnet", command));
    }

    /// <summary>Waits until the service has written a line containing <paramref name="text"/>, failing the test after <paramref name="bound"/> or if it exits first.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan bound)
    {
        await Eventually.TrueAsync(() => Wrote(text) || _process.HasExited, bound, () => $"'{text}' in the service's output:\n{Output}", TestContext.Current.CancellationToken);
        if (!Wrote(text))
        {
            // It has exited: what it wrote last may still be on its way through the pipe.
            await _output;
            Assert.True(Wrote(text), $"The service exited with {_process.ExitCode} before writing '{text}':\n{Output}");
        }
    }

    /// <summary>Sends SIGTERM, as <c>systemctl stop</c> does.</summary>
    public async Task TerminateAsync() =>
        (await ExternalProgram.RunAsync(Requires.Program("kill", "procps"), ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10), cancellationToken: TestContext.Current.CancellationToken)).EnsureSuccess("kill -TERM");

    /// <summary>Waits for the service to exit by itself, at most <paramref name="bound"/>, and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan bound)
    {
        try
        {
            await _process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(bound, TestContext.Current.CancellationToken);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"The service did not exit within {bound}:\n{Output}");
        }

        await _output;
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync(CancellationToken.None);
        }

        await _output;
        _process.Dispose();
    }

    private bool Wrote(string text) => Output.Contains(text, StringComparison.Ordinal);

    private async Task ReadAsync(StreamReader reader, string mark)
    {
        while (await reader.ReadLineAsync() is string line)
        {
            lock (_lines)
            {
                _lines.Add(mark + line);
            }
        }
    }
}

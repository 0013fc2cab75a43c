using System.Runtime.InteropServices;

namespace BlockTorrent.Cli.Console;

/// <summary>
/// Turns Ctrl-C and SIGTERM into a cancellation, so a command stops cleanly: it stops requesting, lets the writes
/// in flight finish, saves its resume state and exits with <see cref="ExitCodes.Interrupted"/>. A second Ctrl-C
/// exits at once (verified pieces stay verified; only unfinished pieces are lost).
/// </summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly CancellationTokenSource _cts = new();
    private readonly TextWriter _error;
    private readonly PosixSignalRegistration? _sigterm;
    private int _count;

    public ShutdownSignal(TextWriter error)
    {
        _error = error;
        System.Console.CancelKeyPress += OnCancelKeyPress;
        if (!OperatingSystem.IsWindows())
        {
            _sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
            {
                context.Cancel = true;
                Signal("SIGTERM");
            });
        }
    }

    /// <summary>Gets the token cancelled by the first signal.</summary>
    public CancellationToken Token => _cts.Token;

    public void Dispose()
    {
        System.Console.CancelKeyPress -= OnCancelKeyPress;
        _sigterm?.Dispose();
        _cts.Dispose();
    }

    private void OnCancelKeyPress(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        Signal("Ctrl-C");
    }

    private void Signal(string what)
    {
        if (Interlocked.Increment(ref _count) == 1)
        {
            _error.WriteLine($"\nblocktorrent: {what}: stopping cleanly (press Ctrl-C again to stop at once).");
            _cts.Cancel();
            return;
        }

        _error.WriteLine($"\nblocktorrent: {what} again: stopping now.");
        Environment.Exit(ExitCodes.Interrupted);
    }
}

using System.Diagnostics;
using System.Text;

namespace BlockTorrent.Testing;

/// <summary>The outcome of running a program to completion.</summary>
/// <param name="ExitCode">The program's exit code.</param>
/// <param name="StandardOutput">Everything it wrote to standard output.</param>
/// <param name="StandardError">Everything it wrote to standard error.</param>
public sealed record ProgramResult(int ExitCode, string StandardOutput, string StandardError)
{
    /// <summary>Throws with the program's output when it did not exit with 0.</summary>
    /// <param name="what">What was being run, for the message.</param>
    /// <returns>This result.</returns>
    public ProgramResult EnsureSuccess(string what)
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"{what} exited with {ExitCode}.\nstdout:\n{StandardOutput}\nstderr:\n{StandardError}");
        }

        return this;
    }
}

/// <summary>Runs programs nobody here wrote (mktorrent, libtorrent's python, aria2c, losetup…) from tests.</summary>
public static class ExternalProgram
{
    /// <summary>Finds a program on the PATH.</summary>
    /// <param name="program">A name or an absolute path.</param>
    /// <returns>The full path, or <see langword="null"/> when it is not installed.</returns>
    public static string? Find(string program)
    {
        ArgumentNullException.ThrowIfNull(program);
        if (Path.IsPathRooted(program))
        {
            return File.Exists(program) ? program : null;
        }

        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin").Split(':'))
        {
            string candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        foreach (string dir in new[] { "/usr/sbin", "/sbin", "/usr/bin", "/bin" })
        {
            string candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Runs a program to completion, killing it (and its children) when <paramref name="timeout"/> passes.</summary>
    /// <param name="program">The program.</param>
    /// <param name="arguments">Its arguments, passed without a shell.</param>
    /// <param name="timeout">The bound on how long it may run.</param>
    /// <param name="workingDirectory">The working directory, or <see langword="null"/> for the current one.</param>
    /// <param name="cancellationToken">Cancels the run (and kills the program).</param>
    /// <returns>The exit code and output.</returns>
    /// <exception cref="TimeoutException">The program ran longer than <paramref name="timeout"/>.</exception>
    public static async Task<ProgramResult> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout, string? workingDirectory = null, CancellationToken cancellationToken = default)
    {
        using var process = Start(program, arguments, workingDirectory);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (stdout) { stdout.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (stderr) { stderr.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            cancellationToken.ThrowIfCancellationRequested();
            throw new TimeoutException($"{program} {string.Join(' ', arguments)} did not finish within {timeout}.\nstdout:\n{stdout}\nstderr:\n{stderr}");
        }

        process.WaitForExit(); // drains the output events
        return new ProgramResult(process.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Starts a program with redirected output; the caller owns (and must kill) it.</summary>
    /// <param name="program">The program.</param>
    /// <param name="arguments">Its arguments.</param>
    /// <param name="workingDirectory">The working directory, or <see langword="null"/>.</param>
    /// <returns>The started process.</returns>
    public static Process Start(string program, IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        return Process.Start(psi) ?? throw new InvalidOperationException($"Could not start {program}.");
    }
}

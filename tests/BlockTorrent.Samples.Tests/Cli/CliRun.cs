using BlockTorrent.Cli;
using BlockTorrent.Cli.Console;

namespace BlockTorrent.Samples.Tests.Cli;

/// <summary>The outcome of one in-process run of the command line.</summary>
internal sealed record CliResult(int ExitCode, string Output, string Error)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
}

/// <summary>Runs <c>blocktorrent</c> in-process, as the program does, with captured output.</summary>
internal static class CliRun
{
    /// <summary>Runs with the test's cancellation token.</summary>
    public static Task<CliResult> RunAsync(params string[] args) => RunUntilAsync(TestContext.Current.CancellationToken, args);

    /// <summary>Runs until <paramref name="cancellationToken"/> is cancelled, as Ctrl-C would cancel the program.</summary>
    public static async Task<CliResult> RunUntilAsync(CancellationToken cancellationToken, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await CliApp.RunAsync(args, new CliConsole(output, error, isTerminal: false), cancellationToken);
        return new CliResult(code, output.ToString(), error.ToString());
    }

    /// <summary>Starts a run that goes on until <paramref name="cancellationToken"/> is cancelled, with its output readable while it runs.</summary>
    public static RunningCli Start(CancellationToken cancellationToken, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        TextWriter outputWriter = TextWriter.Synchronized(output);
        TextWriter errorWriter = TextWriter.Synchronized(error);
        Task<int> run = Task.Run(() => CliApp.RunAsync(args, new CliConsole(outputWriter, errorWriter, isTerminal: false), cancellationToken), CancellationToken.None);
        return new RunningCli(run, () => Read(outputWriter, output) + Read(errorWriter, error), async () => new CliResult(await run, Read(outputWriter, output), Read(errorWriter, error)));
    }

    private static string Read(TextWriter synchronized, StringWriter inner)
    {
        // TextWriter.Synchronized locks the wrapper for every call; reading under the same lock sees whole writes.
        lock (synchronized)
        {
            return inner.ToString();
        }
    }
}

/// <summary>A run of the command line still going: what it printed so far (both streams), and its result once it ends.</summary>
internal sealed record RunningCli(Task<int> Run, Func<string> OutputSoFar, Func<Task<CliResult>> ResultAsync);

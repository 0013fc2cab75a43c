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
}

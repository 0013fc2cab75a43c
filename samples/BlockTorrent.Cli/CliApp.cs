using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Text;
using BlockTorrent.Cli.Commands;
using BlockTorrent.Cli.Console;

namespace BlockTorrent.Cli;

/// <summary>
/// The <c>blocktorrent</c> command line: builds the commands, turns parse errors into one-line usage errors, and
/// every failure into a documented exit code.
/// </summary>
internal static class CliApp
{
    /// <summary>Runs the command line.</summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="console">Where output goes.</param>
    /// <param name="cancellationToken">Cancelled by Ctrl-C or SIGTERM.</param>
    /// <returns>The exit code, one of <see cref="ExitCodes"/>.</returns>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, CliConsole console, CancellationToken cancellationToken)
    {
        using var context = new CliContext(console);
        var verbose = new Option<bool>("--verbose", "-v")
        {
            Description = "Show debug logs, and the stack trace of an error.",
            Recursive = true,
        };
        Command root = BuildRoot(context, verbose);

        // Without a command, show what there is (as git and docker do), and say so in the exit code.
        ParseResult parse = root.Parse(args.Count == 0 ? ["--help"] : args);
        context.Verbose = parse.GetValue(verbose);
        if (parse.Action is ParseErrorAction)
        {
            foreach (var error in parse.Errors)
            {
                console.Error.WriteLine($"blocktorrent: usage: {error.Message}");
            }

            string command = parse.CommandResult.Command == root ? string.Empty : " " + parse.CommandResult.Command.Name;
            console.Error.WriteLine($"Run 'blocktorrent{command} --help' for usage.");
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            EnableDefaultExceptionHandler = false,

            // Ctrl-C is ours (ShutdownSignal): the library's handler would exit the process after a grace period,
            // before the writer has finished the pieces in flight.
            ProcessTerminationTimeout = null,
        };
        try
        {
            int code = await parse.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
            return args.Count == 0 ? ExitCodes.Usage : code;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return ErrorReport.Report(ex, console, context.Verbose, cancellationToken);
        }
    }

    private static Command BuildRoot(CliContext context, Option<bool> verbose)
    {
        var description = new StringBuilder();
        description.AppendLine("Image whole fleets of machines at once: distribute a raw disk image over BitTorrent and write each verified piece straight to each target's disk.");
        description.AppendLine();
        description.AppendLine("Exit codes:");
        foreach ((int code, string meaning) in ExitCodes.All)
        {
            description.AppendLine($"  {code,3}  {meaning}");
        }

        // A named root rather than RootCommand, whose name is the executable's: the tool runs as BlockTorrent.Cli.dll
        // behind the "blocktorrent" shim, and help should show the command people type.
        var root = new Command("blocktorrent", description.ToString().TrimEnd())
        {
            new HelpOption(),
            new VersionOption(),
        };
        root.Options.Add(verbose);
        root.Subcommands.Add(CreateCommand.Build(context));
        root.Subcommands.Add(InfoCommand.Build(context));
        root.Subcommands.Add(KeygenCommand.Build(context));
        root.Subcommands.Add(TlsCommand.Build(context));
        root.Subcommands.Add(SeedCommand.Build(context));
        root.Subcommands.Add(DeployCommand.Build(context));
        root.Subcommands.Add(VerifyCommand.Build(context));
        root.Subcommands.Add(DevicesCommand.Build(context));
        root.Subcommands.Add(DemoCommand.Build(context));
        root.Subcommands.Add(FleetCommand.Build(context));
        root.Subcommands.Add(CaptureCommand.Build(context));
        return root;
    }
}

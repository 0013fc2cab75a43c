using BlockTorrent.Cli.Console;
using BlockTorrent.Devices;
using BlockTorrent.Manifest;

namespace BlockTorrent.Cli;

/// <summary>
/// Turns a failure into one clear line on standard error and an exit code. The stack trace is shown only with
/// <c>--verbose</c>: an operator needs to know what to fix, not where the code was.
/// </summary>
internal static class ErrorReport
{
    public static int Report(Exception exception, CliConsole console, bool verbose, CancellationToken cancellationToken)
    {
        (int code, string message) = Classify(exception, cancellationToken);
        console.Error.WriteLine($"blocktorrent: {(code == ExitCodes.Interrupted ? string.Empty : "error: ")}{message}");
        if (verbose)
        {
            console.Error.WriteLine(exception.ToString());
        }
        else if (code == ExitCodes.Failure)
        {
            console.Error.WriteLine("blocktorrent: run with --verbose for details.");
        }

        return code;
    }

    public static (int ExitCode, string Message) Classify(Exception exception, CancellationToken cancellationToken)
    {
        if (exception is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            return Classify(aggregate.InnerExceptions[0], cancellationToken);
        }

        return exception switch
        {
            CommandException e => (e.ExitCode, e.Message),
            OperationCanceledException when cancellationToken.IsCancellationRequested =>
                (ExitCodes.Interrupted, "interrupted; whatever was verified is kept, and running the same command again resumes."),
            FileNotFoundException e => (ExitCodes.InvalidInput, e.FileName is null ? e.Message : $"no such file: {e.FileName}"),
            DirectoryNotFoundException e => (ExitCodes.InvalidInput, e.Message),
            InvalidTorrentException e => (ExitCodes.InvalidInput, e.Message),
            ManifestTrustException e => (ExitCodes.ManifestRefused, e.Message),
            DeviceSafetyException e => (ExitCodes.TargetRefused, e.Message),
            BlockDeviceIOException { ErrorKind: BlockDeviceErrorKind.ReadOnly or BlockDeviceErrorKind.Busy or BlockDeviceErrorKind.NoSpace or BlockDeviceErrorKind.AccessDenied } e =>
                (ExitCodes.TargetRefused, e.Message),
            UnauthorizedAccessException e => (ExitCodes.TargetRefused, e.Message + " (imaging a device needs root or membership of the 'disk' group)"),
            _ => (ExitCodes.Failure, $"{exception.Message} ({exception.GetType().Name})"),
        };
    }
}

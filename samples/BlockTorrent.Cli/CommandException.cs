namespace BlockTorrent.Cli;

/// <summary>
/// A failure the user can act on: the message is printed as one line, without a stack trace, and the process exits
/// with <see cref="ExitCode"/>.
/// </summary>
internal sealed class CommandException : Exception
{
    public CommandException(int exitCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        ExitCode = exitCode;
    }

    public CommandException()
        : this(ExitCodes.Failure, "The command failed.")
    {
    }

    public CommandException(string message)
        : this(ExitCodes.Failure, message)
    {
    }

    public CommandException(string message, Exception innerException)
        : this(ExitCodes.Failure, message, innerException)
    {
    }

    /// <summary>Gets the process exit code, one of <see cref="ExitCodes"/>.</summary>
    public int ExitCode { get; }

    public static CommandException Usage(string message) => new(ExitCodes.Usage, message);

    public static CommandException InvalidInput(string message, Exception? inner = null) => new(ExitCodes.InvalidInput, message, inner);

    public static CommandException TargetRefused(string message, Exception? inner = null) => new(ExitCodes.TargetRefused, message, inner);
}

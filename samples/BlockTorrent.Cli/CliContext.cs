using BlockTorrent.Cli.Console;
using Microsoft.Extensions.Logging;

namespace BlockTorrent.Cli;

/// <summary>What every command shares: the console, and the logger factory whose level follows <c>--verbose</c>.</summary>
internal sealed class CliContext : IDisposable
{
    private ILoggerFactory? _loggerFactory;

    public CliContext(CliConsole console)
    {
        Console = console;
    }

    public CliConsole Console { get; }

    /// <summary>Gets or sets a value indicating whether <c>--verbose</c> was given (debug logs, stack traces).</summary>
    public bool Verbose { get; set; }

    /// <summary>Gets the loggers for the library: warnings and errors to standard error, everything with <c>--verbose</c>.</summary>
    public ILoggerFactory LoggerFactory => _loggerFactory ??= Microsoft.Extensions.Logging.LoggerFactory.Create(builder =>
    {
        builder.SetMinimumLevel(Verbose ? LogLevel.Debug : LogLevel.Warning);
        builder.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss ";
        });
        builder.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
    });

    public void Dispose() => _loggerFactory?.Dispose();
}

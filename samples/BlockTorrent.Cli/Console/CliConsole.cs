namespace BlockTorrent.Cli.Console;

/// <summary>
/// Where the command writes: results and progress to <see cref="Out"/>, errors to <see cref="Error"/>. Tests give
/// it string writers; the program gives it the process's standard streams.
/// </summary>
internal sealed class CliConsole
{
    private readonly Func<int> _width;

    public CliConsole(TextWriter output, TextWriter error, bool isTerminal, Func<int>? width = null)
    {
        Out = output;
        Error = error;
        IsTerminal = isTerminal;
        _width = width ?? (() => 100);
    }

    /// <summary>Gets the writer for results and progress.</summary>
    public TextWriter Out { get; }

    /// <summary>Gets the writer for errors and warnings.</summary>
    public TextWriter Error { get; }

    /// <summary>Gets a value indicating whether <see cref="Out"/> is an interactive terminal that understands <c>\r</c> and ANSI erase.</summary>
    public bool IsTerminal { get; }

    /// <summary>Gets the terminal width in columns (100 when unknown).</summary>
    public int Width => Math.Max(40, _width());

    /// <summary>Creates the console of the running process.</summary>
    /// <returns>The console.</returns>
    public static CliConsole FromProcess()
    {
        bool terminal = !System.Console.IsOutputRedirected
            && !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);
        var output = new StreamWriter(System.Console.OpenStandardOutput()) { AutoFlush = true };
        var error = new StreamWriter(System.Console.OpenStandardError()) { AutoFlush = true };
        return new CliConsole(output, error, terminal, () =>
        {
            try
            {
                int width = System.Console.WindowWidth;
                return width > 0 ? width : 100;
            }
            catch (IOException)
            {
                return 100;
            }
        });
    }
}
